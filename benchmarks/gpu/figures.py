"""DART's parts on one GPU, each figure next to its physical ceiling (nanoGPT's estimate_mfu,
for every stage): what `benchmarks/gpu/run.sh` prints first.

    python benchmarks/gpu/figures.py                 # GPU: Qwen2.5-0.5B- and 1.5B-shaped models
    python benchmarks/gpu/figures.py --dry-run       # CPU, tiny shapes (tested in CI)

Models are random-initialised from configs shaped like Qwen2.5-0.5B and -1.5B (nothing is
downloaded); the hf backend's own sampling and scoring code runs them, bf16 on GPU. Ceilings
come from the device's dense bf16 peak FLOP/s and memory bandwidth (a table of datasheet
figures below, or DART_PEAK_FLOPS / DART_PEAK_BYTES_PER_S):

- scorer prefill tokens/s <= peak FLOP/s / FLOPs per token (2 P plus attention): compute bound;
- generator decode tokens/s at batch b <= b x bandwidth / bytes read per step (the weights
  once, plus the KV cache): bandwidth bound at small batch;
- one learner step (update_policy, DeepSpeed, LoRA) >= 6 P T / peak FLOP/s (forward for the
  old log-probs, forward and backward for the update);
- LoRA publish-to-serve >= 2 x model bytes / bandwidth (the served copy is rebuilt: read and
  written once).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "services"))

# Qwen2.5 configs (hidden, intermediate, layers, heads, kv heads, vocab), from the published
# config.json files; tied embeddings in both.
SHAPES = {
    "qwen2.5-0.5b": (896, 4864, 24, 14, 2, 151936),
    "qwen2.5-1.5b": (1536, 8960, 28, 12, 2, 151936),
}
DRY_SHAPES = {"tiny": (64, 128, 2, 4, 2, 512)}

# Dense bf16 FLOP/s and memory bytes/s from the vendors' datasheets (no sparsity).
PEAKS = {
    "H200": (989e12, 4.8e12), "H100": (989e12, 3.35e12), "A100": (312e12, 2.04e12),
    "L40S": (362e12, 0.864e12), "L4": (121e12, 0.3e12),
}


def device_peaks(device: torch.device) -> tuple[str, float | None, float | None]:
    """(device name, peak FLOP/s, peak bytes/s); None where unknown."""
    flops, bandwidth = os.environ.get("DART_PEAK_FLOPS"), os.environ.get("DART_PEAK_BYTES_PER_S")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    known = next((peaks for key, peaks in PEAKS.items() if key in name), (None, None))
    return (name, float(flops) if flops else known[0],
            float(bandwidth) if bandwidth else known[1])


def random_model(shape: tuple, device: torch.device):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    hidden, intermediate, layers, heads, kv_heads, vocab = shape
    config = Qwen2Config(hidden_size=hidden, intermediate_size=intermediate,
                         num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=kv_heads, vocab_size=vocab,
                         tie_word_embeddings=True, max_position_embeddings=4096)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    with torch.device(device):
        model = Qwen2ForCausalLM(config).to(dtype).eval()
    return model


def params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def timed(work, repeats: int) -> float:
    """Median seconds of `work()` after one warm-up, synchronised on GPU."""
    def once() -> float:
        began = time.perf_counter()
        work()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter() - began

    once()
    return statistics.median(once() for _ in range(repeats))


def prefill_figure(model, size: dict, peaks: tuple) -> dict:
    from dart.serving.backends.hf_sampling import score_rows
    from dart.serving.requests import ScoreRow

    batch, seq = size["score_batch"], size["score_len"]
    vocab = model.config.vocab_size
    rows = [ScoreRow(tuple(torch.randint(vocab, (seq,)).tolist()), seq // 2)
            for _ in range(batch)]
    seconds = timed(lambda: score_rows(model, rows, pad_id=0), size["repeats"])
    cfg = model.config
    per_token = 2 * params(model) + 2 * cfg.num_hidden_layers * seq * cfg.hidden_size
    ceiling = peaks[1] / per_token if peaks[1] else None
    return figure("scorer prefill tokens/s", batch * seq / seconds, ceiling)


def decode_figure(model, batch: int, size: dict, peaks: tuple) -> dict:
    from dart.serving.backends.hf_sampling import sample_rows
    from dart.serving.requests import SampleRow

    vocab, new = model.config.vocab_size, size["decode_tokens"]
    rows = [SampleRow(tuple(torch.randint(vocab, (size["prompt_len"],)).tolist()), 1.0, 1.0,
                      new, seed) for seed in range(batch)]
    seconds = timed(lambda: sample_rows(model, rows, eos_ids=frozenset(), pad_id=0),
                    size["repeats"])
    cfg = model.config
    element = next(model.parameters()).element_size()
    kv = 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * (
        cfg.hidden_size // cfg.num_attention_heads) * (size["prompt_len"] + new / 2) * element
    step_bytes = params(model) * element + batch * kv
    ceiling = None
    if peaks[2]:
        ceiling = min(batch * peaks[2] / step_bytes, peaks[1] / (2 * params(model)))
    return figure(f"generator decode tokens/s, batch {batch}", batch * new / seconds, ceiling)


def figure(name: str, value: float, ceiling: float | None, lower_is_better=False) -> dict:
    share = None
    if ceiling:
        share = ceiling / value if lower_is_better else value / ceiling
    return {"figure": name, "measured": round(value, 4),
            "ceiling": None if ceiling is None else round(ceiling, 4),
            "of_ceiling": None if share is None else round(share, 4)}


def learner_figure(model_dir: Path, size: dict, peaks: tuple) -> dict:
    """One update_policy (DeepSpeed, LoRA r=16) on B x G random rollouts."""
    from dart.config.load import parse_dartrun
    from dart.config.model_uri import resolve_model
    from dart.learn.loop import update_policy
    from dart.learn.policy import build_policy
    from dart.learn.rollout import Rollout, RolloutBatch
    from dart.learn.tasks import correctness_reward

    spec = parse_dartrun({
        "apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "gpu"},
        "spec": {"models": {"target": {"uri": str(model_dir)},
                            "mapper": {"lora": {"rank": 16, "alpha": 32}}},
                 "dataset": {"synthetic": {}},
                 "learn": {"batchSize": size["learn_batch"], "groupSize": size["learn_group"],
                           "precision": "auto"}}}).spec
    policy = build_policy(resolve_model(spec.models.target), spec.models.mapper, spec.learn)
    vocab, prompt, new = policy.module.config.vocab_size, size["prompt_len"], size["decode_tokens"]
    rewards = [correctness_reward(i % 2 == 0) for i in range(spec.learn.batch_size
                                                              * spec.learn.group_size)]
    batch = RolloutBatch([Rollout("x", torch.randint(vocab, (prompt,)).tolist(),
                                  torch.randint(vocab, (new,)).tolist(), "", r, "base", [])
                          for r in rewards], spec.learn.group_size)
    seconds = timed(lambda: update_policy(policy, batch, spec), size["repeats"])
    tokens = len(rewards) * (prompt + new)
    total = sum(p.numel() for p in policy.module.parameters())
    ceiling = 6 * total * tokens / peaks[1] if peaks[1] else None
    return figure(f"learner step s ({len(rewards)} rollouts x {prompt + new} tokens)", seconds,
                  ceiling, lower_is_better=True)


def publish_figure(model_dir: Path, out: Path, peaks: tuple) -> dict:
    """LoadWeights of a new adapter on the hf generator backend, then its first sample."""
    import asyncio

    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from dart.serving.backends.hf import HFGenerator
    from dart.serving.requests import SampleRow, ServingLimits

    adapter = out / "adapter"
    config = LoraConfig(r=16, lora_alpha=32, init_lora_weights=False,
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir), config).save_pretrained(adapter)

    async def publish_and_sample() -> tuple[float, int]:
        backend = HFGenerator(str(model_dir), ServingLimits(), {})
        row = SampleRow((1, 2, 3), 1.0, 1.0, 1, 0)
        await backend.generate([row])
        began = time.perf_counter()
        await backend.load_weights(adapter, "step-1")
        await backend.generate([row])
        seconds = time.perf_counter() - began
        size = sum(p.numel() * p.element_size() for p in backend._snapshot.model.parameters())
        await backend.close()
        return seconds, size

    seconds, size = asyncio.run(publish_and_sample())
    ceiling = 2 * size / peaks[2] if peaks[2] else None
    return figure("LoRA publish-to-first-sample s (hf backend)", seconds, ceiling,
                  lower_is_better=True)


SIZES = {
    "gpu": {"score_batch": 32, "score_len": 512, "prompt_len": 256, "decode_tokens": 128,
            "learn_batch": 8, "learn_group": 8, "wide_batch": 64, "repeats": 3},
    "dry": {"score_batch": 2, "score_len": 32, "prompt_len": 8, "decode_tokens": 4,
            "learn_batch": 2, "learn_group": 2, "wide_batch": 2, "repeats": 1},
}


def shape_figures(name: str, shape: tuple, size: dict, device, peaks, out: Path) -> list:
    from dart.models.tokenizer import train_tokenizer

    model = random_model(shape, device)
    count, model_dir = params(model), out / name
    # Saved like a checkpoint for the learner and the backend, which load one by path. The
    # tiny tokenizer gives them pad/eos ids; every figure feeds token ids directly.
    model.save_pretrained(model_dir)
    train_tokenizer().save_pretrained(model_dir)
    rows = [prefill_figure(model, size, peaks), decode_figure(model, 1, size, peaks),
            decode_figure(model, size["wide_batch"], size, peaks)]
    del model
    rows += [learner_figure(model_dir, size, peaks), publish_figure(model_dir, out, peaks)]
    return [{"model": name, "parameters": count, **row} for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny shapes")
    parser.add_argument("--work", type=Path, required=True, help="folder for the models")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    device = torch.device("cpu" if args.dry_run or not torch.cuda.is_available() else "cuda")
    if not args.dry_run and device.type != "cuda":
        sys.exit("error: no GPU here; use --dry-run for the CPU check")
    peaks = device_peaks(device)
    shapes, size = (DRY_SHAPES, SIZES["dry"]) if args.dry_run else (SHAPES, SIZES["gpu"])
    rows = [row for name, shape in shapes.items()
            for row in shape_figures(name, shape, size, device, peaks, args.work)]
    print(f"device: {peaks[0]} (peak {peaks[1] or 'unknown'} FLOP/s, "
          f"{peaks[2] or 'unknown'} B/s)")
    for row in rows:
        ceiling = "n/a (unknown device)" if row["ceiling"] is None else (
            f"{row['ceiling']:.4g} ({100 * row['of_ceiling']:.1f}% of it)")
        print(f"{row['model']:14} {row['figure']:60} {row['measured']:>12.4g}   "
              f"ceiling {ceiling}")
    if args.json:
        args.json.write_text(json.dumps({"device": peaks[0], "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""One small `dart run` on the GPU: every stage once, bf16, the hf backend, DeepSpeed.

    python benchmarks/gpu/small_run.py --work DIR            # Qwen2.5-0.5B-shaped models
    python benchmarks/gpu/small_run.py --work DIR --dry-run  # CPU, tiny shapes

Target and mapper are random-initialised with a Qwen2.5-0.5B-shaped body (nothing is
downloaded) and the tiny digit tokenizer, so their rewrites are noise: the point is that the
CUDA / NCCL / bf16 path of learn (a few steps), synthesize, SFT (one epoch) and evaluate runs
end to end, not what it learns. Writes DIR/summary.json: wall time, the learner's history,
the evaluation's accuracies.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "services"))

# hidden, intermediate, layers, heads, kv heads: Qwen2.5-0.5B's body; the tiny model's.
BODIES = {"gpu": (896, 4864, 24, 14, 2), "dry": (64, 128, 2, 4, 2)}


def build_model(out: Path, body: tuple, seed: int) -> Path:
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    from dart.models.tokenizer import MODEL_MAX_LENGTH, train_tokenizer

    tokenizer = train_tokenizer()
    hidden, intermediate, layers, heads, kv_heads = body
    config = Qwen2Config(hidden_size=hidden, intermediate_size=intermediate,
                         num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=kv_heads, vocab_size=len(tokenizer),
                         tie_word_embeddings=True, max_position_embeddings=MODEL_MAX_LENGTH,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id,
                                               pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def spec(work: Path, dry: bool) -> dict:
    return {
        "apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "gpu-small"},
        "spec": {
            "models": {"target": {"uri": str(work / "target")},
                       "mapper": {"init": {"uri": str(work / "mapper")}, "training": "lora",
                                  "lora": {"rank": 16, "alpha": 32}}},
            "dataset": {"synthetic": {"trainSize": 16 if dry else 64, "evalSize": 8}},
            "verifier": {"type": "numeric"},
            "learn": {"steps": 2 if dry else 4, "batchSize": 2 if dry else 8,
                      "groupSize": 2 if dry else 4, "maxNewTokens": 16 if dry else 96,
                      "publishEvery": 1, "checkpointEvery": 2 if dry else 4,
                      "precision": "fp32" if dry else "bf16"},
            "synthesize": {"samplesPerItem": 1},
            "sft": {"epochs": 1, "batchSize": 8, "training": "full",
                    "maxSeqLength": 128 if dry else 512},
            "evaluate": {"maxNewTokens": 16 if dry else 64, "curvePoints": 0},
            "compare": {"arms": []},
        }}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny shapes")
    args = parser.parse_args()
    if not args.dry_run and not torch.cuda.is_available():
        sys.exit("error: no GPU here; use --dry-run for the CPU check")
    body = BODIES["dry" if args.dry_run else "gpu"]
    args.work.mkdir(parents=True, exist_ok=True)
    build_model(args.work / "target", body, seed=0)
    build_model(args.work / "mapper", body, seed=1)
    config = args.work / "dartrun.yaml"
    config.write_text(yaml.safe_dump(spec(args.work, args.dry_run)))
    began = time.monotonic()
    subprocess.run([sys.executable, "-m", "dart", "run", str(config), "--out",
                    str(args.work / "artifacts")], check=True)
    artifacts = args.work / "artifacts"
    history = [json.loads(line) for line in
               (artifacts / "learn/history.jsonl").read_text().splitlines() if line]
    summary = {"device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
               "wall_s": round(time.monotonic() - began, 1),
               "learn": [{k: row[k] for k in ("step", "seconds", "reward_mean", "staleness")
                          if k in row} for row in history],
               "results": json.loads((artifacts / "evaluate/results.json").read_text())}
    (args.work / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: summary[k] for k in ("device", "wall_s", "learn")}, indent=2))


if __name__ == "__main__":
    main()

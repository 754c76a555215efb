"""One GRPO step of DART's learner against one step of TRL's GRPOTrainer, same everything.

    python benchmarks/learner_step.py                    # tiny untrained target, temp dir
    python benchmarks/learner_step.py --model tiny-models/mapper --steps 8

Same model (LoRA r=8 on the attention projections), same demonstrations and mapper prompts,
batch B demonstrations x G samples, same max new tokens, same reward (the alignment gain
under the target, computed in-process for TRL, by the scorer server for DART). A step is
sampling + scoring + one optimizer update. DART samples and scores through its gRPC servers
(child processes) and updates with DeepSpeed; TRL generates in-process. Medians over the
timed steps after one warm-up step; the ratio is printed. Target: DART no slower (ratio <= 1).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml
from transformers import TrainerCallback

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "services"))


def spec_for(model: Path, batch: int, group: int, tokens: int, steps: int):
    from dart.config.load import parse_dartrun

    return parse_dartrun({
        "apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "bench"},
        "spec": {"models": {"target": {"uri": str(model)},
                            "mapper": {"lora": {"rank": 8, "alpha": 16}}},
                 "dataset": {"synthetic": {"trainSize": 256}},
                 "learn": {"steps": steps, "batchSize": batch, "groupSize": group,
                           "maxNewTokens": tokens, "publishEvery": steps,
                           "checkpointEvery": steps}}}).spec


def dart_step_times(spec, workdir: Path, steps: int) -> list[float]:
    from dart.config.model_uri import resolve_model
    from dart.data.load import load_demonstrations
    from dart.learn.loop import batch_for_step, update_policy
    from dart.learn.policy import build_policy
    from dart.learn.rollout import collect_rollouts
    from dart.local.servers import local_servers
    from dart.rewards.batch import ExpertScores
    from dart.serving.client import GeneratorClient, ScorerClient
    from dart.verify import verifier_for

    verifier = verifier_for(spec)
    items = load_demonstrations(spec.dataset, verifier).rows
    policy = build_policy(resolve_model(spec.models.target), spec.models.mapper, spec.learn)
    times = []
    with local_servers(spec, workdir / "servers") as (gen_address, scorer_address):
        generator, scorer = GeneratorClient(gen_address), ScorerClient(scorer_address)
        experts = ExpertScores(scorer)
        for step in range(steps + 1):
            began = time.perf_counter()
            batch = collect_rollouts(
                batch_for_step(items, step, spec.learn.batch_size, 0), tokenizer=policy.tokenizer,
                generator=generator, scorer=scorer, expert_scores=experts, verifier=verifier,
                config=spec.learn, seed=step)
            update_policy(policy, batch, spec)
            times.append(time.perf_counter() - began)
    return times[1:]


def trl_step_times(spec, steps: int) -> list[float]:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from dart.data.load import load_demonstrations
    from dart.prompts import mapper_prompt
    from dart.verify import verifier_for

    model_path = spec.models.target.uri
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    target = AutoModelForCausalLM.from_pretrained(model_path).eval()
    items = load_demonstrations(spec.dataset, verifier_for(spec)).rows
    rows = [{"prompt": mapper_prompt(tokenizer, i["question"], i["solution"]),
             "question": i["question"]} for i in items]

    def alignment(prompts, completions, question, **_):
        return _mean_logprobs(target, tokenizer, question, completions)

    learn = spec.learn
    config = GRPOConfig(
        output_dir=tempfile.mkdtemp(), num_generations=learn.group_size,
        per_device_train_batch_size=learn.batch_size * learn.group_size,
        max_completion_length=learn.max_new_tokens, max_steps=steps + 1, learning_rate=1e-4,
        temperature=1.0, bf16=False, use_cpu=True, report_to="none", save_strategy="no",
        logging_steps=1000, disable_tqdm=True)
    timer = StepTimer()
    trainer = GRPOTrainer(
        model=model_path, reward_funcs=alignment, args=config,
        train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
        peft_config=LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj",
                                                                   "v_proj", "o_proj"]),
        callbacks=[timer])
    trainer.train()
    return timer.times[1:]


@torch.no_grad()
def _mean_logprobs(model, tokenizer, questions, completions) -> list[float]:
    """Mean target log-prob of each completion, one batched forward (as the scorer does)."""
    from dart.prompts import target_prompt_and_completion

    encoded = []
    for question, completion in zip(questions, completions, strict=True):
        prompt, text = target_prompt_and_completion(tokenizer, question, completion)
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        c = tokenizer(text, add_special_tokens=False)["input_ids"]
        encoded.append((p, c))
    width = max(len(p) + len(c) for p, c in encoded)
    ids = torch.full((len(encoded), width), tokenizer.pad_token_id)
    for row, (p, c) in enumerate(encoded):
        ids[row, : len(p) + len(c)] = torch.tensor(p + c)
    logprobs = torch.log_softmax(model(ids).logits[:, :-1].float(), -1)
    picked = logprobs.gather(-1, ids[:, 1:, None]).squeeze(-1)
    return [float(picked[row, len(p) - 1 : len(p) + len(c) - 1].mean())
            for row, (p, c) in enumerate(encoded)]


class StepTimer(TrainerCallback):
    """Wall time of each TRL optimizer step (generation and reward included)."""

    def __init__(self):
        self.times, self._began = [], None

    def on_step_begin(self, args, state, control, **kwargs):
        self._began = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="model folder (default: tiny, untrained)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(2)
    workdir = Path(tempfile.mkdtemp(prefix="dart-bench-"))
    model = args.model
    if model is None:
        from dart.models.tiny import build_tiny_model

        model = build_tiny_model(workdir / "target")
    spec = spec_for(model, args.batch, args.group, args.tokens, args.steps)
    dart = statistics.median(dart_step_times(spec, workdir, args.steps))
    trl = statistics.median(trl_step_times(spec, args.steps))
    print(yaml.safe_dump({
        "batch": args.batch, "group": args.group, "max_new_tokens": args.tokens,
        "dart_step_s_median": round(dart, 3), "trl_step_s_median": round(trl, 3),
        "dart_over_trl": round(dart / trl, 3),
    }, sort_keys=False))


if __name__ == "__main__":
    main()

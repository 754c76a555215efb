"""DART's learner, synchronous and overlapped, against TRL's GRPOTrainer: step time and reward.

    python benchmarks/learner_step.py                       # the shipped pre-trained tiny pair
    python benchmarks/learner_step.py --steps 8 --batch 4 --group 4 --tokens 160
    python benchmarks/learner_step.py --untrained --steps 2 --batch 2 --group 2 --tokens 8

Three learners on the same config and global batch (B demonstrations x G samples, the same
mapper prompts, max new tokens, LoRA r=8 on q/k/v/o, lr, temperature) and the same reward
(DART's: the alignment gain under the target minus the penalties, through the same scorer
server for all three):

- `sync`: `dart.learn.loop.train` with learn.maxStaleness 0 (sample, score, update in turn);
- `async`: the same with maxStaleness 1 (the next step sampled during the update);
- `trl`: TRL's GRPOTrainer, generating in-process.

Both DART runs publish after every step (TRL's policy is always current) and checkpoint only
at the end. Two timings: each learner's own per-step record, median after the first (warm-up)
step (DART's history: the synchronous loop's excludes the publish, the overlapped one's counts
it; TRL's by a callback), and the wall time of the whole train() call per step, the same rule
for all three. Then each learner's reward per step (TRL's mean reward is its own log). One
invocation, one machine; the load average is printed with them because these shared machines
vary by +-50%.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch loads, inherited by servers

import torch  # noqa: E402
import yaml  # noqa: E402
from transformers import PrinterCallback, TrainerCallback  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "services"))


def spec_for(target: Path, mapper: Path, args, max_staleness: int):
    from dart.config.load import parse_dartrun

    return parse_dartrun({
        "apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "bench"},
        "spec": {"models": {"target": {"uri": str(target)},
                            "mapper": {"init": {"uri": str(mapper)},
                                       "lora": {"rank": 8, "alpha": 16}}},
                 "dataset": {"synthetic": {"trainSize": 256}},
                 "learn": {"steps": args.steps, "batchSize": args.batch,
                           "groupSize": args.group, "maxNewTokens": args.tokens,
                           "temperature": args.temperature, "learningRate": args.lr,
                           "publishEvery": 1, "checkpointEvery": args.steps,
                           "maxStaleness": max_staleness, "seed": args.seed}}}).spec


def dart_run(spec, servers, workdir: Path) -> tuple[list[dict], float]:
    """One `train` from scratch against the shared servers: its history rows, and its wall
    time (every step's publish included, and the final one)."""
    from dart.config.model_uri import resolve_model
    from dart.learn.loop import LearnerServices, train
    from dart.learn.policy import build_policy

    generator, scorer, verifier, items = servers
    # Every run starts from the mapper's initial weights, served as "base".
    generator.load_weights(spec.models.mapper.init.uri, "base")
    policy = build_policy(resolve_model(spec.models.mapper.init), spec.models.mapper,
                          spec.learn)
    began = time.perf_counter()
    train(policy, items, spec, LearnerServices(generator, scorer, verifier), workdir)
    wall = time.perf_counter() - began
    history = (workdir / "learn" / "history.jsonl").read_text().splitlines()
    return [json.loads(line) for line in history if line], wall


def trl_run(spec, servers) -> tuple[list[float], list[float], float]:
    """(step seconds, mean reward per step, wall time of train()) of TRL's GRPOTrainer."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from dart.prompts import mapper_prompt
    from dart.rewards.batch import ExpertScores, reward_rewrites

    _, scorer, verifier, items = servers
    mapper, learn = spec.models.mapper.init.uri, spec.learn
    tokenizer = AutoTokenizer.from_pretrained(mapper)
    rows = [{"prompt": mapper_prompt(tokenizer, i["question"], i["solution"]),
             "item": json.dumps(i)} for i in items]
    experts = ExpertScores(scorer)

    def dart_reward(prompts, completions, item, **_):
        owners = [json.loads(i) for i in item]
        return [r.total for r in reward_rewrites(owners, completions, scorer=scorer,
                                                 experts=experts, checker=verifier,
                                                 config=learn.reward)]

    config = GRPOConfig(
        output_dir=tempfile.mkdtemp(), num_generations=learn.group_size,
        per_device_train_batch_size=learn.batch_size * learn.group_size,
        max_completion_length=learn.max_new_tokens, max_steps=learn.steps,
        learning_rate=learn.learning_rate, temperature=learn.temperature, bf16=False,
        use_cpu=True, report_to="none", save_strategy="no", logging_steps=1,
        disable_tqdm=True, seed=learn.seed)
    timer = StepTimer()
    trainer = GRPOTrainer(
        model=mapper, reward_funcs=dart_reward, args=config,
        train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
        peft_config=LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj",
                                                                   "v_proj", "o_proj"]),
        callbacks=[timer])
    trainer.remove_callback(PrinterCallback)  # its per-step dicts would bury the figures
    began = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - began
    rewards = [row["reward"] for row in trainer.state.log_history if "reward" in row]
    return timer.times, rewards, wall


class StepTimer(TrainerCallback):
    """Wall time of each TRL optimizer step (generation and reward included)."""

    def __init__(self):
        self.times, self._began = [], None

    def on_step_begin(self, args, state, control, **kwargs):
        self._began = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._began)


def ratios(kind: str, times: dict[str, float]) -> dict[str, float]:
    pairs = [("async", "sync"), ("sync", "trl"), ("async", "trl")]
    return {f"{a}_over_{b}_{kind}": round(times[a] / times[b], 3) for a, b in pairs
            if a in times and b in times}


def timed_median(seconds: list[float]) -> float:
    """Median after the warm-up step (the only one when there is one step)."""
    return statistics.median(seconds[1:] or seconds)


def models(args, workdir: Path) -> tuple[Path, Path]:
    """(target, mapper start): the shipped pre-trained pair, or an untrained tiny model
    for both (--untrained: the smoke size, where learning does not matter)."""
    if args.untrained:
        from dart.models.tiny import build_tiny_model

        tiny = build_tiny_model(workdir / "target")
        return tiny, tiny
    from dart.models.shipped import shipped_tiny_models

    paths = shipped_tiny_models()
    if paths is None:
        sys.exit("error: the shipped tiny models are stale; rebuild them or pass --untrained")
    return paths.target, paths.mapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--untrained", action="store_true",
                        help="an untrained tiny model as target and mapper (smoke runs)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--group", type=int, default=4)
    # The quickstart's maxNewTokens: shorter cuts the rewrites before their answer line,
    # every one is gated, and all three curves sit at the floor.
    parser.add_argument("--tokens", type=int, default=160)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--temperature", type=float, default=1.2)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-trl", action="store_true", help="only the two DART learners")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(yaml.safe_dump(measure(args), sort_keys=False))


def measure(args) -> dict:
    from dart.data.load import load_demonstrations
    from dart.local.servers import local_servers
    from dart.serving.client import GeneratorClient, ScorerClient
    from dart.verify import verifier_for

    workdir = Path(tempfile.mkdtemp(prefix="dart-bench-"))
    target, mapper = models(args, workdir)
    specs = {name: spec_for(target, mapper, args, staleness)
             for name, staleness in (("sync", 0), ("async", 1))}
    load_before = os.getloadavg()[0]
    with local_servers(specs["sync"], workdir / "servers") as (gen_address, scorer_address), \
            verifier_for(specs["sync"]) as verifier, GeneratorClient(gen_address) as generator, \
            ScorerClient(scorer_address) as scorer:
        items = load_demonstrations(specs["sync"].dataset, verifier).rows
        servers = (generator, scorer, verifier, items)
        runs = {name: dart_run(spec, servers, workdir / name) for name, spec in specs.items()}
        seconds = {name: [h["seconds"] for h in rows] for name, (rows, _) in runs.items()}
        rewards = {name: [h["reward_mean"] for h in rows] for name, (rows, _) in runs.items()}
        walls = {name: wall for name, (_, wall) in runs.items()}
        if not args.skip_trl:
            seconds["trl"], rewards["trl"], walls["trl"] = trl_run(specs["sync"], servers)
    medians = {name: timed_median(s) for name, s in seconds.items()}
    per_step = {name: wall / args.steps for name, wall in walls.items()}
    figures = {"batch": args.batch, "group": args.group, "max_new_tokens": args.tokens,
               "steps": args.steps, "load_average_1min": [round(load_before, 2),
                                                          round(os.getloadavg()[0], 2)],
               **{f"{name}_step_s_median": round(m, 3) for name, m in medians.items()},
               **{f"{name}_wall_s_per_step": round(w, 3) for name, w in per_step.items()}}
    figures |= ratios("median", medians) | ratios("wall", per_step)
    figures["reward_per_step"] = {name: [round(r, 3) for r in curve]
                                  for name, curve in rewards.items()}
    return figures


if __name__ == "__main__":
    main()

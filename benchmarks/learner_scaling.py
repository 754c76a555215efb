"""Learner step time on 1 and on 2 CPU processes (torchrun, gloo), same global batch.

    python benchmarks/learner_scaling.py                      # tiny untrained model
    python benchmarks/learner_scaling.py --model tiny-models/mapper --steps 8 --batch 8

Runs `dart learn` twice on the same spec, alone and under `torchrun --nproc-per-node 2`,
each with its own pair of child servers, and reads the per-step wall time the learner
records in learn/history.jsonl (sampling + scoring + update + gathering the step's stats).
Medians over the steps after the first (warm-up); also the largest per-step difference in
reward and loss between the two runs, which should be float noise. On a 2-core machine no
speed-up is expected (two ranks and two servers share the cores): the point is equal results
at a bounded cost.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def write_spec(path: Path, model: Path, args) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "scaling"},
        "spec": {"models": {"target": {"uri": str(model)}},
                 "dataset": {"synthetic": {"trainSize": 64}},
                 "learn": {"steps": args.steps, "batchSize": args.batch, "groupSize": args.group,
                           "maxNewTokens": args.tokens, "publishEvery": args.steps,
                           "checkpointEvery": args.steps, "zeroStage": args.zero,
                           # As in tests/learn/test_distributed_learner.py: an untrained
                           # model's rewrites differ in alignment only (penalties off), and
                           # the second update's loss is not 0, so the comparison has teeth.
                           "updatesPerBatch": 2, "learningRate": 1e-2,
                           "reward": {"penalties": {"enabled": False},
                                      "clip": {"low": -100.0, "high": 100.0}}}}}))
    return path


def learn(config: Path, artifacts: Path, processes: int) -> list[dict]:
    dart = ["-m", "dart", "learn", "--config", str(config), "--artifacts", str(artifacts)]
    launcher = [] if processes == 1 else ["-m", "torch.distributed.run", "--standalone",
                                          "--nproc-per-node", str(processes)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, *launcher, *dart], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    history = (artifacts / "learn" / "history.jsonl").read_text().splitlines()
    return [json.loads(line) for line in history if line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="model folder (default: tiny, untrained)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--zero", type=int, default=0, choices=[0, 1, 2, 3])
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="dart-scaling-"))
    model = args.model
    if model is None:
        sys.path.insert(0, str(REPO / "services"))
        from dart.models.tiny import build_tiny_model

        model = build_tiny_model(workdir / "target")
    config = write_spec(workdir / "run.yaml", model, args)
    runs = {n: learn(config, workdir / f"p{n}", n) for n in (1, 2)}
    median = {n: statistics.median(h["seconds"] for h in runs[n][1:]) for n in runs}
    pairs = list(zip(runs[1], runs[2], strict=True))
    print(yaml.safe_dump({
        "batch": args.batch, "group": args.group, "max_new_tokens": args.tokens,
        "zero_stage": args.zero, "steps_timed": args.steps - 1,
        "step_s_median_1_process": round(median[1], 3),
        "step_s_median_2_processes": round(median[2], 3),
        "two_over_one": round(median[2] / median[1], 3),
        "max_reward_difference": max(abs(a["reward_mean"] - b["reward_mean"]) for a, b in pairs),
        "max_loss_difference": max(abs(a["loss"] - b["loss"]) for a, b in pairs),
        "max_abs_loss": max(abs(a["loss"]) for a in runs[1]),
    }, sort_keys=False))


if __name__ == "__main__":
    main()

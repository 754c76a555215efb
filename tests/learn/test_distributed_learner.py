"""The learner on two CPU processes (torchrun, gloo) against real servers on loopback, with
tiny untrained models (learning quality does not matter here, equality does).

- 2 processes learn what 1 process learns on the same global batch: per-step reward equal
  to 1e-6 (the same samples: each group has its own seed) and loss within LOSS_TOLERANCE
  (gradients averaged over the ranks instead of summed in one batch: float rounding only).
- Rank 0 alone starts the servers, publishes (one LoadWeights per publish step), writes the
  history (one line per step) and marks checkpoints, which hold every rank's files.
- ZeRO-3, full fine-tuning: one rank killed by SIGKILL after a complete checkpoint fails the
  run with torchrun's message; the restart resumes from that checkpoint on every rank and
  ends at the planned step count.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from dart.artifacts import MARKER, LearnPaths
from dart.learn.checkpoint import latest_checkpoint

pytestmark = pytest.mark.slow

LOSS_TOLERANCE = 1e-4
REWARD_TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    from dart.models.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("tiny")
    build_tiny_model(root / "target")
    return root


def write_spec(path: Path, tiny: Path, steps: int, **learn) -> Path:
    spec = {
        "apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "ranks"},
        "spec": {
            "models": {"target": {"uri": str(tiny / "target")}},
            "dataset": {"synthetic": {"trainSize": 16, "evalSize": 4}},
            # Penalties off: an untrained model's rewrites all break the format and would all
            # score the same (zero advantage, nothing learnt); their alignment gains differ.
            # Two updates per batch: the second's loss is not 0 (its ratio is not 1).
            "learn": {"steps": steps, "batchSize": 4, "groupSize": 2, "maxNewTokens": 12,
                      "publishEvery": 2, "checkpointEvery": 2, "learningRate": 1e-2,
                      "updatesPerBatch": 2,
                      "reward": {"penalties": {"enabled": False},
                                 "clip": {"low": -100.0, "high": 100.0}}, **learn},
        },
    }
    path.write_text(yaml.safe_dump(spec))
    return path


def learn_command(config: Path, artifacts: Path, processes: int) -> list[str]:
    dart = ["-m", "dart", "learn", "--config", str(config), "--artifacts", str(artifacts)]
    if processes == 1:
        return [sys.executable, *dart]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            "--nproc-per-node", str(processes), *dart]


def learner_env() -> dict:
    # One thread per process: two ranks and two servers share CI's two cores.
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def run_learner(config: Path, artifacts: Path, processes: int) -> subprocess.CompletedProcess:
    done = subprocess.run(learn_command(config, artifacts, processes), capture_output=True,
                          text=True, timeout=600, env=learner_env())
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def history(artifacts: Path) -> list[dict]:
    file = LearnPaths(artifacts / "learn").history
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line]


def served_versions(artifacts: Path) -> list[str]:
    """The weights versions the generator was asked to load, in order, from its log."""
    log = (artifacts / "servers" / "generator.log").read_text()
    return [line.split("weights ")[1].split()[0].strip("'\"") for line in log.splitlines()
            if "now serving" in line]


def test_two_processes_learn_what_one_learns(tiny_dir, tmp_path):
    config = write_spec(tmp_path / "run.yaml", tiny_dir, steps=4)
    one, two = tmp_path / "one", tmp_path / "two"
    run_learner(config, one, processes=1)
    done = run_learner(config, two, processes=2)
    alone, together = history(one), history(two)
    assert max(abs(h["loss"]) for h in alone) > 1e-3  # something is learnt, so it can differ
    assert [h["step"] for h in together] == [1, 2, 3, 4]  # one writer: one line per step
    for a, b in zip(alone, together, strict=True):
        assert abs(a["reward_mean"] - b["reward_mean"]) <= REWARD_TOLERANCE, (a, b)
        assert abs(a["loss"] - b["loss"]) <= LOSS_TOLERANCE, (a["loss"], b["loss"])
        assert a["generated_tokens"] == b["generated_tokens"]
        assert a["weights_version"] == b["weights_version"]
    assert served_versions(two) == ["step-2"] == served_versions(one)
    assert done.stdout.count("learn: done") == 1
    paths = LearnPaths(two / "learn")
    assert (paths.final / MARKER).exists() and (paths.final / "adapter_config.json").exists()
    for step in (2, 4):
        checkpoint = paths.checkpoints / f"step-{step:06d}"
        assert {"rng.pt", "rng-rank1.pt", MARKER} <= {p.name for p in checkpoint.iterdir()}
    assert not list(paths.checkpoints.glob(".tmp-*"))


def rank_pid(launcher: subprocess.Popen, rank: int) -> int | None:
    """The pid of the worker of `rank` among the launcher's children."""
    for child in Path(f"/proc/{launcher.pid}/task/{launcher.pid}/children").read_text().split():
        try:
            environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in environ:
            return int(child)
    return None


def wait_for_checkpoint_and_steps(launcher: subprocess.Popen, paths: LearnPaths, steps: int):
    deadline = time.monotonic() + 600
    while not list(paths.checkpoints.glob(f"*/{MARKER}")) or len(
            history(paths.root.parent)) < steps:
        assert launcher.poll() is None, launcher.communicate()[1][-4000:]
        assert time.monotonic() < deadline, "no complete checkpoint in time"
        time.sleep(0.2)


def test_zero3_rank_killed_resumes_from_last_complete_checkpoint(tiny_dir, tmp_path):
    config = write_spec(tmp_path / "run.yaml", tiny_dir, steps=6, zeroStage=3)
    spec = yaml.safe_load(config.read_text())
    spec["spec"]["models"]["mapper"] = {"training": "full"}
    config.write_text(yaml.safe_dump(spec))
    artifacts = tmp_path / "a"
    paths = LearnPaths(artifacts / "learn")
    launcher = subprocess.Popen(learn_command(config, artifacts, 2), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=learner_env(),
                                start_new_session=True)
    try:
        wait_for_checkpoint_and_steps(launcher, paths, steps=3)
        os.kill(rank_pid(launcher, 1), signal.SIGKILL)
        _, stderr = launcher.communicate(timeout=120)
    finally:
        if launcher.poll() is None:  # a failed assertion: leave no learner behind
            os.killpg(launcher.pid, signal.SIGKILL)
    assert launcher.returncode != 0
    assert "SIGKILL" in stderr and "dart" in stderr  # torchrun names the failed worker
    assert not (paths.final / MARKER).exists()
    before = history(artifacts)
    resumed_from = int(latest_checkpoint(paths).name.removeprefix("step-"))

    run_learner(config, artifacts, processes=2)
    steps = [h["step"] for h in history(artifacts)]
    assert steps == [1, 2, 3, 4, 5, 6], f"crashed after {len(before)} steps, history {steps}"
    # Resumed, not restarted: the steps up to the checkpoint were kept as they were, and the
    # generator was first given the restored weights.
    assert history(artifacts)[:resumed_from] == before[:resumed_from]
    assert served_versions(artifacts)[0] == f"step-{resumed_from}"
    last = paths.checkpoints / "step-000006"
    shards = sorted(p.name for p in (last / "state").glob("*optim_states.pt"))
    assert len(shards) == 2, shards  # each rank's ZeRO-3 partition, saved collectively
    assert (paths.final / MARKER).exists() and (paths.final / "config.json").exists()

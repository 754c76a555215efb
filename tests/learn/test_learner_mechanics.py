"""The learner against real servers on loopback with tiny untrained models: publishing,
checkpoints, progress, and resuming after a crash (SIGKILL) at the same step count."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from dart.learn.checkpoint import COMPLETE, STABLE, LearnPaths

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    from dart.models.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("tiny")
    build_tiny_model(root / "target")
    return root


def write_spec(path: Path, tiny: Path, steps: int) -> Path:
    spec = {
        "apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "mech"},
        "spec": {
            "models": {"target": {"uri": str(tiny / "target")}},
            "dataset": {"synthetic": {"trainSize": 16, "evalSize": 4}},
            "learn": {"steps": steps, "batchSize": 2, "groupSize": 2, "maxNewTokens": 12,
                      "publishEvery": 2, "checkpointEvery": 2, "learningRate": 1e-3},
        },
    }
    path.write_text(yaml.safe_dump(spec))
    return path


def learn_command(config: Path, artifacts: Path) -> list[str]:
    return [sys.executable, "-m", "dart", "learn", "--config", str(config),
            "--artifacts", str(artifacts)]


def history(artifacts: Path) -> list[dict]:
    lines = LearnPaths(artifacts / "learn").history.read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_learn_publishes_checkpoints_and_skips_when_done(tiny_dir, tmp_path):
    config, artifacts = write_spec(tmp_path / "run.yaml", tiny_dir, steps=4), tmp_path / "a"
    done = subprocess.run(learn_command(config, artifacts), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    paths = LearnPaths(artifacts / "learn")
    assert (paths.final / STABLE).exists()
    assert (paths.final / "adapter_config.json").exists()  # LoRA by default
    assert (paths.weights / "step-2" / STABLE).exists()
    assert sorted(p.parent.name for p in paths.checkpoints.glob(f"*/{COMPLETE}")) == [
        "step-000002", "step-000004"]
    steps = history(artifacts)
    assert [h["step"] for h in steps] == [1, 2, 3, 4]
    assert [h["weights_version"] for h in steps] == ["base", "base", "step-2", "step-2"]
    progress = json.loads(paths.progress.read_text())
    assert progress["step"] == 4 and progress["total"] == 4
    for key in ("reward_mean", "answer_preservation", "kl", "tokens_per_s", "eta_seconds"):
        assert key in progress
    assert set(progress["components"]) >= {"alignment", "answer_changed", "length"}
    again = subprocess.run(learn_command(config, artifacts), capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0 and "already done" in again.stdout


def test_killed_learner_resumes_from_its_last_checkpoint(tiny_dir, tmp_path):
    config, artifacts = write_spec(tmp_path / "run.yaml", tiny_dir, steps=6), tmp_path / "a"
    learner = subprocess.Popen(learn_command(config, artifacts), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    paths = LearnPaths(artifacts / "learn")
    deadline = time.monotonic() + 400
    while not list(paths.checkpoints.glob(f"*/{COMPLETE}")) or len(history(artifacts)) < 3:
        assert learner.poll() is None and time.monotonic() < deadline, "learner stopped early"
        time.sleep(0.2)
    os.kill(learner.pid, signal.SIGKILL)
    learner.wait()
    crashed_at = len(history(artifacts))
    assert not (paths.final / STABLE).exists()
    resumed = subprocess.run(learn_command(config, artifacts), capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    steps = [h["step"] for h in history(artifacts)]
    assert steps == [1, 2, 3, 4, 5, 6], f"crashed after {crashed_at} steps, history {steps}"
    assert (paths.final / STABLE).exists()
    assert _no_server_outlived(artifacts)


def _no_server_outlived(artifacts: Path) -> bool:
    """The servers of the SIGKILLed learner must have exited with it (PR_SET_PDEATHSIG)."""
    time.sleep(1.0)
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return str(artifacts) not in listing and "--ready-file " + str(artifacts) not in listing

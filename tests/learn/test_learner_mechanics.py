"""The learner against real servers on loopback with tiny untrained models: killed by SIGKILL
mid-run, it resumes from its last complete checkpoint, reaches the same step count, and
leaves published weights, checkpoints and progress behind."""

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
    return _history(LearnPaths(artifacts / "learn"))


def _history(paths: LearnPaths) -> list[dict]:
    if not paths.history.exists():
        return []
    return [json.loads(line) for line in paths.history.read_text().splitlines() if line]


def test_killed_learner_resumes_from_its_last_checkpoint(tiny_dir, tmp_path):
    config, artifacts = write_spec(tmp_path / "run.yaml", tiny_dir, steps=6), tmp_path / "a"
    learner = subprocess.Popen(learn_command(config, artifacts), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    paths = LearnPaths(artifacts / "learn")
    deadline = time.monotonic() + 400
    while not list(paths.checkpoints.glob(f"*/{MARKER}")) or len(history(artifacts)) < 3:
        assert learner.poll() is None and time.monotonic() < deadline, "learner stopped early"
        time.sleep(0.2)
    os.kill(learner.pid, signal.SIGKILL)
    learner.wait()
    crashed_at = len(history(artifacts))
    assert not (paths.final / MARKER).exists()
    resumed = subprocess.run(learn_command(config, artifacts), capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    steps = [h["step"] for h in history(artifacts)]
    assert steps == [1, 2, 3, 4, 5, 6], f"crashed after {crashed_at} steps, history {steps}"
    assert _no_server_outlived(artifacts)
    check_published_artifacts(paths)
    again = subprocess.run(learn_command(config, artifacts), capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0 and "already done" in again.stdout


def check_published_artifacts(paths: LearnPaths) -> None:
    assert (paths.final / MARKER).exists()
    assert (paths.final / "adapter_config.json").exists()  # LoRA by default
    assert all((paths.weights / f"step-{s}" / MARKER).exists() for s in (2, 4))
    assert sorted(p.parent.name for p in paths.checkpoints.glob(f"*/{MARKER}")) == [
        "step-000004", "step-000006"]  # the two newest are kept
    versions = [h["weights_version"] for h in _history(paths)]
    assert versions[:2] == ["base", "base"] and versions[-1] == "step-4"
    progress = json.loads(paths.progress.read_text())
    assert progress["step"] == 6 and progress["total"] == 6
    for key in ("reward_mean", "answer_preservation", "kl", "tokens_per_s", "eta_seconds",
                "distinct_rewrites_per_group", "zero_variance_groups", "style_share"):
        assert key in progress
    assert set(progress["style_features"]) == {"operator", "carry", "answer"}
    assert set(progress["components"]) >= {"alignment", "answer_changed", "length"}


def _no_server_outlived(artifacts: Path) -> bool:
    """The servers of the SIGKILLed learner must have exited with it (PR_SET_PDEATHSIG)."""
    time.sleep(1.0)
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return str(artifacts) not in listing

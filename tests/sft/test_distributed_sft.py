"""`dart sft` on two CPU processes (torchrun, DDP over gloo) with a tiny untrained target:
the same global batch and step count as one process, one saved model and one done marker per
(arm, seed), curve models from rank 0, and a re-run that skips what is done."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dart.artifacts import MARKER, Artifacts, atomic_write_jsonl, mark_done

pytestmark = pytest.mark.slow

ROWS, BATCH = 16, 4


def write_run(tmp_path: Path) -> tuple[Path, Path]:
    from dart.data.synthetic import generate_split
    from dart.models.tiny import build_tiny_model

    build_tiny_model(tmp_path / "target")
    spec = {
        "apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "sft-ranks"},
        "spec": {
            "models": {"target": {"uri": str(tmp_path / "target")}},
            "dataset": {"synthetic": {"trainSize": ROWS, "evalSize": 4}},
            "sft": {"batchSize": BATCH, "epochs": 1, "maxSeqLength": 128},
            "evaluate": {"curvePoints": 1},
        },
    }
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(spec))
    artifacts = tmp_path / "a"
    # The dart arm's input as the synthesize stage leaves it.
    rows = generate_split("train", seed=0, size=ROWS, style="expert")
    synthesized = Artifacts(artifacts).synthesize("dart")
    atomic_write_jsonl(synthesized.dataset, rows)
    mark_done(synthesized.root)
    return config, artifacts


def sft_command(config: Path, artifacts: Path) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
            "2", "-m", "dart", "sft", "--config", str(config), "--artifacts", str(artifacts)]


def test_two_process_sft_writes_one_model_per_arm(tmp_path):
    config, artifacts = write_run(tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(sft_command(config, artifacts), capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    for arm in ("dart", "sft-original"):
        run = Artifacts(artifacts).sft(arm, 0)
        stats = json.loads(run.stats.read_text())
        assert stats["steps"] == ROWS // BATCH  # the spec's global batch, not 2x it
        assert (run.root / MARKER).exists()  # the unit, marked once its stats are written
        assert (run.model / MARKER).exists()
        assert (run.model / "config.json").exists()
        curve = sorted(p.name for p in run.curve.iterdir())
        assert curve == [f"step-{ROWS // BATCH // 2:06d}"], curve
        assert (run.curve / curve[0] / MARKER).exists()
        assert not list(run.root.rglob(".tmp-*"))  # no torn or racing staging folder
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(Artifacts(artifacts).sft("dart", 0).model)
    again = subprocess.run(sft_command(config, artifacts), capture_output=True, text=True,
                           timeout=300, env=env)
    assert again.returncode == 0, again.stderr[-4000:]
    assert again.stdout.count("already done") >= 2

"""`dart run` end to end on a reduced quickstart: every stage, the report, and resuming after
Ctrl-C (learn is not redone), with tiny untrained models so it stays fast."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reduced_quickstart(tmp_path_factory) -> Path:
    from dart.models.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("e2e")
    build_tiny_model(root / "target")
    spec = yaml.safe_load((REPO / "examples/01-quickstart.yaml").read_text())
    spec["spec"]["models"] = {"target": {"uri": str(root / "target")}}
    spec["spec"]["dataset"]["synthetic"].update(trainSize=12, evalSize=6)
    spec["spec"]["learn"].update(steps=2, batchSize=2, groupSize=2, maxNewTokens=12,
                                 publishEvery=1, checkpointEvery=1)
    spec["spec"]["synthesize"].update(samplesPerItem=2)
    spec["spec"]["sft"].update(batchSize=8)
    spec["spec"]["evaluate"].update(maxNewTokens=12)
    path = root / "reduced.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def dart_run(config: Path, out: Path, **kwargs):
    command = [sys.executable, "-m", "dart", "run", str(config), "--out", str(out)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def test_pipeline_runs_every_stage_and_resumes_after_ctrl_c(reduced_quickstart, tmp_path):
    out = tmp_path / "run"
    first = dart_run(reduced_quickstart, out)
    learned = out / "learn/weights/final/STABLE"
    deadline = time.monotonic() + 600
    while not learned.exists():
        assert first.poll() is None, first.communicate()[1][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.2)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 130, err[-3000:]
    assert not (out / "evaluate/results.json").exists()
    assert str(out) not in subprocess.run(["ps", "-eo", "args"], capture_output=True,
                                          text=True).stdout, "a server outlived dart run"

    second = dart_run(reduced_quickstart, out)
    stdout, stderr = second.communicate(timeout=1200)
    assert second.returncode == 0, stderr[-3000:]
    assert "learn: already done; skipping" in stderr
    check_artifacts(out)
    assert "report.md" in stdout


def check_artifacts(out: Path) -> None:
    rows = _jsonl(out / "synthesize/adapted.jsonl")
    assert len(rows) == 12
    assert {r["provenance"]["outcome"] for r in rows} <= {"rewritten", "kept-original"}
    assert (out / "synthesize/adapted.parquet").stat().st_size > 0
    for arm in ("dart", "baseline"):
        assert (out / f"sft/{arm}/model/DONE").exists()
    results = json.loads((out / "evaluate/results.json").read_text())
    assert set(results["models"]) == {"base", "baseline", "dart"}
    for scores in results["models"].values():
        assert set(scores) == {"in-domain", "retention", "ood"}
        assert all(s["n"] == 6 and 0 <= s["accuracy"] <= 1 for s in scores.values())
    report = (out / "report/report.md").read_text()
    assert "| dart |" in report and "DART is" in report
    assert (out / "report/accuracy.png").exists() and (out / "report/learning.png").exists()


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def test_a_changed_spec_is_refused_for_existing_artifacts(reduced_quickstart, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    spec = yaml.safe_load(reduced_quickstart.read_text())
    same = subprocess.run([sys.executable, "-m", "dart", "validate", str(reduced_quickstart)],
                          capture_output=True, text=True, timeout=120)
    (out / "dartrun.yaml").write_text(same.stdout)  # as `dart run` pins it
    spec["spec"]["learn"]["steps"] = 1
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(spec))
    result = subprocess.run([sys.executable, "-m", "dart", "run", str(changed), "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "holds a run of a different spec" in result.stderr

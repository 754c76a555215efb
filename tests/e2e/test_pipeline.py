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
from oracle_gap_check import check_oracle_gap_in_report
from pipeline_checks import check_results, dart_run

from dart.report.sections import compare_to_plain_sft
from dart.report.summary import terminal_summary

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def test_pipeline_runs_every_stage_and_resumes_after_ctrl_c(reduced_quickstart, tmp_path):
    out = tmp_path / "run"
    first = dart_run(reduced_quickstart, out)
    learned = out / "learn/weights/final/DONE"
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
    # Learn is not redone (synthesize too, if the interrupt landed where Python swallows it
    # and the run stopped at the next stage boundary instead).
    assert "GRPO on the mapper" not in stderr and "already done; skipping" in stderr
    check_artifacts(out)
    results = json.loads((out / "evaluate/results.json").read_text())
    assert terminal_summary(results, out / "report/report.md") in stdout
    assert "Setting accelerator to CPU" not in stderr and "Loading weights" not in stderr


def check_artifacts(out: Path) -> None:
    rows = _jsonl(out / "synthesize/adapted.jsonl")
    assert len(rows) == 12
    assert {r["provenance"]["outcome"] for r in rows} <= {"rewritten", "kept-original"}
    assert (out / "synthesize/adapted.parquet").stat().st_size > 0
    assert (out / "synthesize/README.md").read_text().startswith("---")  # the dataset card
    sft_arms = ("dart", "sft-original", "sft-oracle")  # the quickstart's, two seeds each
    for arm in sft_arms:
        for seed in (0, 1):
            assert (out / f"sft/{arm}/seed-{seed}/model/DONE").exists()
    assert (out / "direct-rl/model/DONE").exists()
    results = json.loads((out / "evaluate/results.json").read_text())
    check_results(results, {"base", *sft_arms, "direct-rl"})
    assert {len(s["seeds"]) for arm in sft_arms for s in results["models"][arm].values()} == {2}
    report = (out / "report/report.md").read_text()
    assert "| dart |" in report and "direct-rl" in report
    for name, dart in results["models"]["dart"].items():  # the verdict follows the numbers
        verdict = compare_to_plain_sft(dart, results["models"]["sft-original"][name])
        assert f"- **{name}**: {verdict}" in report
    check_oracle_gap_in_report(report, results)
    for figure in ("accuracy", "learning", "curves"):
        assert (out / f"report/{figure}.png").exists()


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

"""Each ablation runs from the spec at tiny scale (the reduced quickstart) and becomes an arm
of results.json and the report, with the fields every arm has; a re-run redoes nothing."""

import json

import pytest
import yaml
from pipeline_checks import check_results, dart_run

pytestmark = pytest.mark.slow
ABLATIONS = ("no-penalties", "no-rl", "grape", "grape-k3")


@pytest.fixture(scope="module")
def ablation_run(reduced_quickstart, tmp_path_factory):
    spec = yaml.safe_load(reduced_quickstart.read_text())
    spec["spec"]["compare"] = {"arms": ["sft-original"], "ablations": list(ABLATIONS)}
    spec["spec"]["evaluate"].update(seeds=1, curvePoints=0)
    root = tmp_path_factory.mktemp("ablations")
    config = root / "ablations.yaml"
    config.write_text(yaml.safe_dump(spec))
    run = dart_run(config, root / "run")
    _, stderr = run.communicate(timeout=1200)
    assert run.returncode == 0, stderr[-3000:]
    return root / "run"


def test_every_ablation_is_an_arm_with_scores_costs_and_a_curve(ablation_run):
    results = json.loads((ablation_run / "evaluate/results.json").read_text())
    check_results(results, {"base", "dart", "sft-original", *ABLATIONS})
    report = (ablation_run / "report/report.md").read_text()
    for arm in ABLATIONS:
        assert f"| {arm} |" in report
    assert "## DART against its ablations at the mapper's tokens" in report


@pytest.mark.parametrize("arm", ABLATIONS)
def test_each_ablation_writes_its_own_adapted_data(ablation_run, arm):
    summary = json.loads((ablation_run / f"ablations/{arm}/synthesize/summary.json").read_text())
    assert summary["items"] == 12 and summary["generated_tokens"] > 0
    rows = (ablation_run / f"ablations/{arm}/synthesize/adapted.jsonl").read_text().splitlines()
    provenance = [json.loads(r)["provenance"] for r in rows]
    assert {p["mapper_version"] for p in provenance} == (
        {"final"} if arm == "no-penalties" else {"base"})
    # grape-k3 samples 3 candidates per demonstration, the others the run's samplesPerItem
    spec = yaml.safe_load((ablation_run.parent / "ablations.yaml").read_text())["spec"]
    own = 3 if arm == "grape-k3" else spec["synthesize"]["samplesPerItem"]
    assert {p["candidates"] for p in provenance} == {own}


def test_no_penalties_learns_its_own_mapper_and_the_report_shows_the_hacking(ablation_run):
    assert (ablation_run / "ablations/no-penalties/learn/weights/final/DONE").exists()
    report = (ablation_run / "report/report.md").read_text()
    assert "## Reward hacking without penalties" in report
    assert "| no-penalties |" in report and "length ratio" in report


def test_a_finished_run_is_skipped_stage_by_stage_arm_by_arm(ablation_run):
    again = dart_run(ablation_run.parent / "ablations.yaml", ablation_run)
    _, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr[-3000:]
    for unit in ("learn", "synthesize", "synth-no-rl", "synth-grape", "synth-grape-k3",
                 "learn-no-penalties",
                 "synth-no-penalties", "sft-no-penalties-0"):
        assert f"{unit}: already done; skipping" in stderr
    assert "GRPO" not in stderr and "fine-tuning" not in stderr
    assert "evaluate[" not in stderr  # every model's scores are cached

"""Running `dart run` from a test, and the checks every end-to-end run's results pass."""

import subprocess
import sys
from pathlib import Path

import pytest


def dart_run(config: Path, out: Path, **kwargs):
    command = [sys.executable, "-m", "dart", "run", str(config), "--out", str(out)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


COST_FIELDS = {"wall_seconds", "tokens_generated", "tokens_trained_sft", "tokens_trained_rl",
               "params", "flops", "seconds"}


def check_results(results: dict, arms: set[str]) -> None:
    """Every arm has scores per set over its seeds, costs and an accuracy curve."""
    assert set(results["models"]) == arms
    for scores in results["models"].values():
        assert set(scores) == {"in-domain", "retention", "ood"}
        for s in scores.values():
            assert 0 <= s["accuracy"] <= 1 and s["accuracy"] == pytest.approx(
                sum(s["seeds"]) / len(s["seeds"])) and s["n"] == 6 * len(s["seeds"])
    for arm in arms - {"base"}:
        assert set(results["costs"][arm]) == COST_FIELDS
        assert results["costs"][arm]["flops"] > 0
        curve = results["curves"][arm]
        assert curve[0]["step"] == 0 and len(curve) >= 2
        assert [p["flops"] for p in curve] == sorted(p["flops"] for p in curve)
        assert curve[-1]["flops"] == results["costs"][arm]["flops"]
    check_summary(results)


def check_summary(results: dict) -> None:
    """The summary (a DartRun's status.results too) restates the models' scores."""
    from dart.config.status import ResultsSummary

    summary = ResultsSummary.model_validate(results["summary"])
    assert set(summary.arms) == set(results["models"])
    for arm, sets in results["models"].items():
        for name, s in sets.items():
            assert summary.arms[arm][name].mean == pytest.approx(s["accuracy"], abs=1e-4)
            assert len(summary.arms[arm][name].seeds) == len(s["seeds"])
    assert summary.headline and summary.verdict

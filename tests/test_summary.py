"""The results summary: one schema for evaluate/results.json and a DartRun's status."""

from __future__ import annotations

import json

import pytest

from dart.artifacts import Artifacts, atomic_write_json
from dart.config.status import ResultsSummary
from dart.evaluate.results import combine_seeds
from dart.local.units import SUMMARY_BYTES, write_summary
from dart.summary import summarize
from dart_operator.results import report_summary


def arm(*accuracies: float) -> dict:
    return combine_seeds([{"in-domain": {"accuracy": a, "correct": round(a * 50), "n": 50},
                           "retention": {"accuracy": a / 2, "correct": round(a * 25), "n": 50}}
                          for a in accuracies])


MODELS = {"base": arm(0.2), "dart": arm(0.5, 0.7), "sft-original": arm(0.3, 0.3),
          "sft-oracle": arm(0.7, 0.7), "direct-rl": arm(0.4)}


def test_the_summary_gives_each_arm_and_set_and_the_oracle_gap_headline():
    summary = summarize(MODELS)
    assert summary.arms["dart"]["in-domain"].seeds == [0.5, 0.7]
    assert summary.arms["dart"]["in-domain"].mean == pytest.approx(0.6)
    assert summary.oracle_gap["in-domain"].seeds == [0.5, 1.0]  # (0.5-0.3)/(0.7-0.3), ...
    assert summary.headline.startswith("oracle gap recovered: in-domain 0.75 ± 0.35")
    assert summary.verdict == ("DART is ahead of plain SFT on in-domain (+0.300), "
                               "ahead of plain SFT on retention (+0.150)")


def test_without_the_oracle_the_headline_says_what_is_missing():
    summary = summarize({k: v for k, v in MODELS.items() if k != "sft-oracle"})
    assert summary.oracle_gap is None and "needs the dart, sft-original and sft-oracle" in \
        summary.headline


def report_pod(message: str, exit_code: int = 0) -> dict:
    return {"metadata": {"name": "demo-report-0-abcde", "labels": {
                "app.kubernetes.io/component": "report", "dart.ai/stage": "report"}},
            "status": {"containerStatuses": [{"name": "main", "state": {"terminated": {
                "exitCode": exit_code, "message": message}}}]}}


def test_the_operator_reads_exactly_the_summary_dart_run_wrote(tmp_path):
    results = {"models": MODELS, "summary": summarize(MODELS).model_dump(mode="json")}
    atomic_write_json(Artifacts(tmp_path).results, results)
    message = write_summary(tmp_path, tmp_path / "termination-log")
    assert len(message.encode()) <= SUMMARY_BYTES
    from_status = report_summary({"pod": report_pod(message)})
    on_disk = json.loads(Artifacts(tmp_path).results.read_text())["summary"]
    assert from_status == on_disk
    assert ResultsSummary.model_validate(from_status) == summarize(MODELS)


def test_a_failed_or_foreign_report_pod_gives_no_results():
    good = summarize(MODELS).model_dump_json()
    assert report_summary({"p": report_pod(good, exit_code=1)}) is None
    assert report_summary({"p": report_pod('{"arms": 3')}) is None


def test_a_summary_too_big_for_a_termination_message_drops_the_seed_lists(tmp_path):
    many = {f"arm-{i}": arm(*[0.1 * (j % 9) for j in range(16)]) for i in range(24)}
    atomic_write_json(Artifacts(tmp_path).results,
                      {"summary": summarize(many).model_dump(mode="json")})
    message = write_summary(tmp_path, tmp_path / "termination-log")
    assert len(message.encode()) <= SUMMARY_BYTES
    kept = ResultsSummary.model_validate_json(message)
    assert kept.arms["arm-0"]["in-domain"].seeds == [] and kept.arms["arm-0"]["in-domain"].mean
    huge = {f"arm-{i}": arm(0.5) for i in range(60)}
    atomic_write_json(Artifacts(tmp_path).results,
                      {"summary": summarize(huge).model_dump(mode="json")})
    message = write_summary(tmp_path, tmp_path / "termination-log")
    assert len(message.encode()) <= SUMMARY_BYTES
    assert ResultsSummary.model_validate_json(message).headline


def test_the_verdict_does_not_call_a_difference_within_the_seed_spread():
    close = {**MODELS, "dart": arm(0.2, 0.5), "sft-original": arm(0.3, 0.3)}
    assert summarize(close).verdict.startswith(
        "DART is within the seed spread of plain SFT on in-domain (+0.050)")
    same = {**MODELS, "dart": arm(0.3, 0.3)}
    assert summarize(same).verdict.startswith(
        "DART is level with plain SFT on in-domain (both 0.300)")

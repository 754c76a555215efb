"""The chart's alert rules: valid for Prometheus (`promtool check rules`), firing and staying
quiet as intended on synthetic series (`promtool test rules`). The chart's PrometheusRule
that ships them: tests/chart/test_values.py."""

from __future__ import annotations

from pathlib import Path

import yaml
from prometheus_process import promtool

HERE = Path(__file__).resolve().parent
RULES = HERE.parents[1] / "charts" / "dart" / "alerts" / "dart-rules.yaml"
UNIT_TESTS = HERE / "dart-rules.test.yaml"


def alert_names(groups: list[dict]) -> set[str]:
    return {rule["alert"] for group in groups for rule in group["rules"]}


def test_promtool_checks_the_rules():
    done = promtool("check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 5 rules found" in done.stdout, done.stdout


def test_promtool_unit_tests_pass_and_cover_every_alert():
    done = promtool("test", "rules", str(UNIT_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr
    tested = {case["alertname"] for test in yaml.safe_load(UNIT_TESTS.read_text())["tests"]
              for case in test["alert_rule_test"]}
    assert tested == alert_names(yaml.safe_load(RULES.read_text())["groups"])


def test_promtool_unit_tests_can_fail(tmp_path):
    """A rule with a wrong threshold fails the same unit tests."""
    broken = RULES.read_text().replace("< 0.5", "< 0.1")
    assert broken != RULES.read_text()
    rules = tmp_path / "charts" / "dart" / "alerts" / "dart-rules.yaml"
    rules.parent.mkdir(parents=True)
    rules.write_text(broken)
    unit = tmp_path / "tests" / "monitoring" / UNIT_TESTS.name
    unit.parent.mkdir(parents=True)
    unit.write_text(UNIT_TESTS.read_text())
    done = promtool("test", "rules", str(unit))
    assert done.returncode != 0 and "DartAnswerPreservationCollapsing" in done.stdout + done.stderr

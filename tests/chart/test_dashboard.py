"""The Grafana dashboard queries only series the code defines, and has the agreed panels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chart_manifests import CHART, REPO
from metric_names import defined_series, is_defined, queried_metrics

DASHBOARD = CHART / "dashboards" / "dart.json"
REQUIRED_PANELS = {
    "Runs by phase", "Stage durations (mean)", "Stage progress", "Generator tokens/s",
    "Scorer tokens/s", "Generator latency", "Scorer latency", "Weights version",
    "Learner reward", "Answer-preservation rate", "Published weights version",
}


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def expressions(dashboard: dict) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return exprs


def test_every_queried_metric_is_defined_in_the_code(dashboard):
    patterns = defined_series([REPO / "services", REPO / "operator"])
    queried = set().union(*(queried_metrics(e) for e in expressions(dashboard)))
    assert len(queried) >= 20, sorted(queried)
    missing = sorted(name for name in queried if not is_defined(name, patterns))
    assert not missing, f"the dashboard queries series no code defines: {missing}"


def test_dashboard_has_the_agreed_panels(dashboard):
    titles = {p["title"] for p in dashboard["panels"]}
    assert REQUIRED_PANELS <= titles, REQUIRED_PANELS - titles


def test_panels_use_the_datasource_variable_and_unique_ids(dashboard):
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert all(p["datasource"]["uid"] == "${datasource}" for p in panels)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


# ----------------------------------------------------------------------------- the checker


@pytest.mark.parametrize(("expr", "names"), [
    ('sum by (phase) (dart_operator_runs)', {"dart_operator_runs"}),
    ('histogram_quantile(0.95, sum by (le, method) (rate(x_seconds_bucket{a="b"}[5m])))',
     {"x_seconds_bucket"}),
    ('sum(rate(a_total{code!="OK"}[$__rate_interval])) / on (run) group_left b',
     {"a_total", "b"}),
    ('label_values(dart_operator_runs{namespace=~"$namespace"}, run)', {"dart_operator_runs"}),
    ("a_sum / a_count offset 5m", {"a_sum", "a_count"}),
])
def test_queried_metrics(expr, names):
    assert queried_metrics(expr) == names


def test_defined_series_follows_types_and_f_strings(tmp_path: Path):
    (tmp_path / "m.py").write_text(
        "from prometheus_client import Counter, Histogram, Gauge\n"
        "A = Counter('app_requests_total', 'doc')\n"
        "class M:\n"
        "    def __init__(self, role):\n"
        "        prefix = f'app_{role}'\n"
        "        self.h = Histogram(f'{prefix}_seconds', 'doc')\n"
        "G = Gauge('app_queue', 'doc')\n"
    )
    patterns = defined_series([tmp_path])
    for name in ("app_requests_total", "app_gen_seconds_bucket", "app_gen_seconds_count",
                 "app_queue"):
        assert is_defined(name, patterns), name
    for name in ("app_requests", "app_queue_total", "app_gen_seconds", "app_a_b_seconds_sum",
                 "app_gen_secondz_bucket"):
        assert not is_defined(name, patterns), name

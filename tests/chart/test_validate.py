"""Every rendered manifest passes kubernetes-validate --strict (unknown fields are errors) for
the oldest Kubernetes the chart supports and the newest the validator knows. Prometheus
Operator objects have no schema there; their shape is checked by hand."""

from __future__ import annotations

import pytest
from chart_manifests import CI_VALUES
from kubernetes_validate import utils as kv

OLDEST = "1.29"  # Chart.yaml kubeVersion
NEWEST = kv.latest_version()
MONITOR_KINDS = {"ServiceMonitor", "PodMonitor"}
PROMETHEUS_OPERATOR_KINDS = MONITOR_KINDS | {"PrometheusRule"}


@pytest.mark.parametrize("version", [OLDEST, NEWEST])
@pytest.mark.parametrize("values", [None, CI_VALUES], ids=["default", "all-on"])
def test_manifests_validate_strictly(render, values, version):
    docs = render(None, values, crds=True) if values else render(crds=True)
    errors = []
    for doc in docs:
        if doc["kind"] in PROMETHEUS_OPERATOR_KINDS:
            continue
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {error.message}")
    assert not errors, "\n".join(errors)


def test_validator_rejects_an_unknown_field():
    """The check above can fail: a misspelt field is caught."""
    bad = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x"},
           "automountToken": False}
    with pytest.raises(kv.ValidationError):
        kv.validate(bad, OLDEST, strict=True)


def _check_monitor(doc: dict) -> list[str]:
    """The fields Prometheus Operator needs, and nothing it would reject."""
    spec = doc["spec"]
    endpoints_key = "endpoints" if doc["kind"] == "ServiceMonitor" else "podMetricsEndpoints"
    problems = []
    if doc["apiVersion"] != "monitoring.coreos.com/v1":
        problems.append(f"apiVersion {doc['apiVersion']}")
    if set(spec) - {"selector", "namespaceSelector", endpoints_key, "jobLabel"}:
        problems.append(f"unexpected spec keys {sorted(spec)}")
    if not spec.get("selector", {}).get("matchLabels"):
        problems.append("no selector.matchLabels")
    allowed = {"port", "path", "interval", "scrapeTimeout", "honorLabels", "relabelings"}
    for endpoint in spec.get(endpoints_key) or [None]:
        if not endpoint or endpoint.get("port") != "metrics":
            problems.append(f"endpoint {endpoint} does not scrape the 'metrics' port")
        elif set(endpoint) - allowed:
            problems.append(f"unexpected endpoint keys {sorted(set(endpoint) - allowed)}")
    return problems


def test_monitors_have_the_prometheus_operator_shape(render):
    monitors = [d for d in render(None, CI_VALUES) if d["kind"] in MONITOR_KINDS]
    assert sorted(d["kind"] for d in monitors) == ["PodMonitor", "ServiceMonitor"]
    for doc in monitors:
        assert not _check_monitor(doc), (doc["kind"], _check_monitor(doc))

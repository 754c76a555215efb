"""`helm lint --strict` for the default values and for the all-options-on CI values."""

from __future__ import annotations

import pytest
from chart_manifests import CHART, CI_VALUES, run_helm


@pytest.mark.parametrize("values", [None, CI_VALUES], ids=["default", "all-on"])
def test_helm_lint_strict_passes(helm, values):
    args = ["lint", "--strict", str(CHART)] + (["--values", str(values)] if values else [])
    done = run_helm(helm, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout


def test_helm_template_renders_default_and_all_on(render):
    default_kinds = {doc["kind"] for doc in render()}
    all_on_kinds = {doc["kind"] for doc in render(None, CI_VALUES)}
    assert {"Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"} <= default_kinds
    assert {"ServiceMonitor", "PodMonitor", "NetworkPolicy", "ConfigMap", "Role"} <= all_on_kinds


def test_chart_ships_the_generated_crd(render):
    crds = [d for d in render(crds=True) if d["kind"] == "CustomResourceDefinition"]
    assert [c["metadata"]["name"] for c in crds] == ["dartruns.dart.ai"]

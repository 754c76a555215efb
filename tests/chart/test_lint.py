"""`helm lint --strict` for the default values and for the all-options-on CI values."""

from __future__ import annotations

import shutil

import pytest
import yaml
from chart_manifests import CHART, CI_VALUES, NAMESPACE, RELEASE, run_helm


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


def render_notes(helm, tmp_path, *values_files) -> str:
    """NOTES.txt as `helm install` prints it: helm template skips it, so render a copy of the
    chart where it is wrapped into a ConfigMap."""
    chart = tmp_path / "dart"
    shutil.copytree(CHART, chart)
    notes = (chart / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "NOTES.txt").unlink()
    (chart / "templates" / "_notes.tpl").write_text(
        '{{- define "test.notes" -}}\n' + notes + "{{- end -}}\n")
    (chart / "templates" / "notes.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n"
        'data: {notes: {{ include "test.notes" . | quote }}}\n')
    args = ["template", RELEASE, str(chart), "--namespace", NAMESPACE,
            "--show-only", "templates/notes.yaml"]
    done = run_helm(helm, *args, *[a for f in values_files for a in ("--values", str(f))])
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["data"]["notes"]


def test_notes_tell_what_to_do_next(helm, tmp_path):
    default = render_notes(helm, tmp_path / "default")
    assert "every namespace" in default and "No nodePools are configured" in default
    assert "metrics.serviceMonitor.enabled=true" in default
    all_on = render_notes(helm, tmp_path / "all-on", CI_VALUES)
    assert "dart-runs, research" in all_on
    assert "gpu-a100 (nvidia.com/gpu)" in all_on and "h100" in all_on
    assert "DART" in all_on and "dart-dashboard" in all_on

"""Where the chart is, how helm runs, and small helpers to pick objects out of manifests."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "dart"
CI_VALUES = CHART / "ci" / "all-on-values.yaml"
RELEASE = "dart"
NAMESPACE = "dart-system"


def run_helm(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *args], capture_output=True, text=True, timeout=60)


def find(docs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    """The rendered objects of a kind (and name)."""
    return [
        d for d in docs
        if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def operator_env(docs: list[dict]) -> dict[str, str]:
    """The operator container's plain env vars (valueFrom ones are left out)."""
    container = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}

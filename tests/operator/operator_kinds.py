"""Shared test material: DartRuns as the API server would hold them, settings, validation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml
from kubernetes_validate.utils import latest_version

from dart_operator.settings import NodePool, Settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
K8S_VERSIONS = ("1.29", latest_version())

SETTINGS = Settings(
    image_workload="registry.example/dart:1.0",
    image_pull_secrets=["operator-creds"],
    node_pools={
        "gpu-a100": NodePool(
            node_selector={"pool": "a100"},
            tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        ),
        "h100": NodePool(
            node_selector={"pool": "h100"},
            runtime_class_name="nvidia",
            gpu_resource="nvidia.com/gpu",
            affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "gpu", "operator": "In", "values": ["h100"]}]}]}}},
        ),
    },
)

MINIMAL_SPEC: dict[str, Any] = {
    "models": {"target": {"uri": "/models/target"}},
    "dataset": {"synthetic": {}},
    "learn": {"steps": 100, "publishEvery": 10, "checkpointEvery": 50},
}


def example_run(path: Path, uid: str = "uid-1", generation: int = 1) -> dict[str, Any]:
    """An example DartRun as read back from a cluster (uid, namespace, generation set)."""
    doc = yaml.safe_load(path.read_text())
    doc["metadata"].setdefault("namespace", "default")
    doc["metadata"].update(uid=uid, generation=generation)
    return doc


def make_run(spec: dict[str, Any] | None = None, *, name: str = "demo",
             status: dict[str, Any] | None = None, generation: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "dart.ai/v1alpha1",
        "kind": "DartRun",
        "metadata": {"name": name, "namespace": "research", "uid": "uid-demo",
                     "generation": generation},
        "spec": copy.deepcopy(spec if spec is not None else MINIMAL_SPEC),
        "status": status or {},
    }


def assert_valid(obj: dict[str, Any]) -> None:
    """Strict schema check (unknown fields are errors) for the oldest and newest supported
    Kubernetes; raises kubernetes_validate's ValidationError with the path on failure."""
    for version in K8S_VERSIONS:
        kubernetes_validate.validate(obj, version, strict=True)

"""Deterministic names, labels and owner references of a run's children.

Names are derived from the run name alone, so a reconcile can find every child again
without remembering anything; labels let one list call per kind find them all; the owner
reference makes Kubernetes delete them with the run.
"""

from __future__ import annotations

from typing import Any

RUN_LABEL = "dart.ai/run"
STAGE_LABEL = "dart.ai/stage"
INPUTS_ANNOTATION = "dart.ai/inputs-hash"
SPEC_HASH_ANNOTATION = "dart.ai/spec-hash"
POD_HASH_ANNOTATION = "dart.ai/pod-hash"
KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"

SERVERS = ("generator", "scorer")
"""The two inference servers: the mapper's sampler and the target's scorer."""


def child_name(run_name: str, component: str) -> str:
    """`<run>-<component>`; run names are at most 40 characters, so this stays a DNS label."""
    return f"{run_name}-{component}"


def config_name(run_name: str) -> str:
    return child_name(run_name, "config")


def claim_name(run_name: str) -> str:
    return child_name(run_name, "artifacts")


def labels(run_name: str, component: str, stage: str) -> dict[str, str]:
    """Recommended `app.kubernetes.io/*` labels plus DART's own selectors.

    `stage` is the pipeline stage a child serves: learn, synthesize, sft, evaluate, `serve`
    for the inference servers and `run` for run-wide children (spec ConfigMap, artifacts).
    """
    return {
        "app.kubernetes.io/name": "dart",
        "app.kubernetes.io/instance": run_name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "dart",
        "app.kubernetes.io/managed-by": "dart-operator",
        RUN_LABEL: run_name,
        STAGE_LABEL: stage,
    }


def selector(run_name: str, component: str) -> dict[str, str]:
    """The smallest stable label set that picks one component's pods."""
    return {RUN_LABEL: run_name, "app.kubernetes.io/component": component}


def owner_reference(run: dict[str, Any]) -> dict[str, Any]:
    """Controller reference to the DartRun: garbage collection deletes the child with it."""
    return {
        "apiVersion": run["apiVersion"],
        "kind": run["kind"],
        "name": run["metadata"]["name"],
        "uid": run["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_owned_by(child: dict[str, Any], run: dict[str, Any]) -> bool:
    """True when the run is the child's controller (sample-controller's IsControlledBy)."""
    uid = run["metadata"]["uid"]
    refs = child.get("metadata", {}).get("ownerReferences") or []
    return any(ref.get("uid") == uid and ref.get("controller") for ref in refs)


def metadata(run: dict[str, Any], name: str, component: str, stage: str) -> dict[str, Any]:
    """Metadata every child carries: name, namespace, labels, controller reference."""
    return {
        "name": name,
        "namespace": run["metadata"]["namespace"],
        "labels": labels(run["metadata"]["name"], component, stage),
        "ownerReferences": [owner_reference(run)],
    }

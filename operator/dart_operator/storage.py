"""The run-wide children: the spec every workload reads, and the artifacts volume."""

from __future__ import annotations

from typing import Any

import yaml

from dart.config.spec import API_VERSION, KIND
from dart_operator import naming
from dart_operator.pods import CONFIG_FILE, RunContext


def run_document(ctx: RunContext) -> dict[str, Any]:
    """The DartRun as workloads load it (`--config`): defaults filled in, no server fields.
    `suspend` is left out: pausing is the operator's business, and toggling it should not
    rewrite the file every pod reads."""
    spec = ctx.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    spec.pop("suspend", None)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": ctx.name, "namespace": ctx.namespace},
        "spec": spec,
    }


def config_map(ctx: RunContext) -> dict[str, Any]:
    """The spec as a file; every pod mounts it read-only at /etc/dart."""
    text = yaml.safe_dump(run_document(ctx), sort_keys=False)
    name = naming.config_name(ctx.name)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": naming.metadata(ctx.run, name, "config", "run"),
        "data": {CONFIG_FILE: text},
    }


def artifacts_claim(ctx: RunContext) -> dict[str, Any] | None:
    """The artifacts PVC, or None when the run brings its own claim (never adopted)."""
    artifacts = ctx.spec.artifacts
    if artifacts.existing_claim:
        return None
    spec: dict[str, Any] = {
        "accessModes": [ctx.settings.artifacts_access_mode],
        "resources": {"requests": {"storage": artifacts.size}},
    }
    if artifacts.storage_class_name:
        spec["storageClassName"] = artifacts.storage_class_name
    name = naming.claim_name(ctx.name)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": naming.metadata(ctx.run, name, "artifacts", "run"),
        "spec": spec,
    }

"""The pods the operator would create for a run, given the settings the chart renders.

Uses the operator's own pure desired-state functions, so a chart test can follow a value from
values.yaml through the operator's environment into every child pod.
"""

from __future__ import annotations

from typing import Any

from dart.config.spec import DartRunSpec
from dart_operator import jobs, servers
from dart_operator.pods import RunContext
from dart_operator.settings import Settings

COMPONENTS = ("generator", "scorer", "learner", "synthesize", "sft", "evaluate")

UNITS = ("learn", "synthesize", "sft-dart-0", "evaluate", "report")
"""One unit of each stage of the minimal run's plan."""


def gpu_run_spec(node_pool: str | None = None, pull_secrets: tuple[str, ...] = ()) -> DartRunSpec:
    """A run whose every component asks for one GPU (on `node_pool`, when given)."""
    each = {"gpus": 1, **({"nodePool": node_pool} if node_pool else {})}
    return DartRunSpec.model_validate({
        "models": {"target": {"uri": "hf://org/model@main"}},
        "dataset": {"synthetic": {}},
        "resources": dict.fromkeys(COMPONENTS, each),
        "imagePullSecrets": list(pull_secrets),
    })


def child_pods(settings: Settings, spec: DartRunSpec) -> dict[str, dict[str, Any]]:
    """Pod spec of every workload child, by child name."""
    run = {"apiVersion": "dart.ai/v1alpha1", "kind": "DartRun",
           "metadata": {"name": "r", "namespace": "runs", "uid": "u-1"}}
    ctx = RunContext(run=run, spec=spec, settings=settings)
    children = servers.server_children(ctx)
    for stage in UNITS:
        children += jobs.stage_children(ctx, stage, None)
    return {
        c["metadata"]["name"]: c["spec"]["template"]["spec"]
        for c in children if c["kind"] in ("Deployment", "Job")
    }

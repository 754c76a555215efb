"""The two inference servers (generator = mapper sampling, scorer = target log-probs).

Each is a Deployment behind a headless Service: gRPC keeps one HTTP/2 connection open, so a
ClusterIP would pin every client to one replica; with a headless Service the client resolves
all ready replicas (`dns:///`) and balances itself. Servers only live while learn or
synthesize need them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dart_operator import naming, pods
from dart_operator.pods import RunContext

SERVES_ANNOTATION = "dart.ai/serves"
"""On the generator's pods: which unit's mapper it holds. A unit that needs another one (an
ablation's, the untrained mapper, the target) changes it, so the generator is replaced by a
fresh one: a generator keeps whatever weights the last learner pushed into it."""
GRPC_PORT = 50051
METRICS_PORT = 9090
PROBE_PERIOD_SECONDS = 10


def fingerprint(spec: dict[str, Any]) -> str:
    """Hash of the desired Deployment spec: a changed hash means the operator must update it
    (comparing with the live object would trip over every field the API server defaults)."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def server_model(ctx: RunContext, server: str, serves: str = "mapper/dart") -> str:
    """The generator samples from the mapper (by default initialised from the target), or
    from the target itself for direct-rl."""
    mapper_init = ctx.spec.models.mapper.init
    if server == "generator" and mapper_init and not serves.startswith("target"):
        return mapper_init.uri
    return ctx.spec.models.target.uri


def server_command(ctx: RunContext, server: str, serves: str = "mapper/dart") -> list[str]:
    command = [
        "dart", "serve", server, "--model", server_model(ctx, server, serves),
        "--port", str(GRPC_PORT), "--metrics-port", str(METRICS_PORT),
    ]
    if server == "generator":  # one LoRA adapter per version a rollout in flight may use
        command += ["--adapter-slots", str(ctx.spec.learn.max_staleness + 1)]
    return command


def address(ctx: RunContext, server: str) -> str:
    """host:port a client in the run's namespace dials."""
    return f"{naming.child_name(ctx.name, server)}:{GRPC_PORT}"


def probes(ctx: RunContext) -> dict[str, Any]:
    """gRPC health gates traffic; the startup probe gives model loading its whole budget
    before liveness (the HTTP /healthz) may restart the container."""
    grpc = {"grpc": {"port": GRPC_PORT}, "periodSeconds": PROBE_PERIOD_SECONDS}
    startup_failures = max(1, ctx.settings.server_startup_seconds // PROBE_PERIOD_SECONDS)
    return {
        "startupProbe": {**grpc, "failureThreshold": startup_failures},
        "readinessProbe": {**grpc, "failureThreshold": 3},
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "metrics"},
            "periodSeconds": 20,
            "failureThreshold": 3,
        },
    }


def server_container(ctx: RunContext, server: str, serves: str) -> dict[str, Any]:
    container = pods.main_container(ctx, server, server_command(ctx, server, serves))
    container["ports"] = [
        {"name": "grpc", "containerPort": GRPC_PORT, "protocol": "TCP"},
        {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
    ]
    return {**container, **probes(ctx)}


def deployment(ctx: RunContext, server: str, serves: str = "mapper/dart") -> dict[str, Any]:
    """Recreate, not rolling: a rolling update of a GPU server would need twice the GPUs."""
    name = naming.child_name(ctx.name, server)
    meta = naming.metadata(ctx.run, name, server, "serve")
    pod = pods.pod_spec(ctx, server, [server_container(ctx, server, serves)], "Always")
    spec = {
        "replicas": ctx.resources_of(server).replicas,
        "selector": {"matchLabels": naming.selector(ctx.name, server)},
        "strategy": {"type": "Recreate"},
        "progressDeadlineSeconds": ctx.settings.server_startup_seconds + 60,
        "template": {"metadata": {"labels": dict(meta["labels"])}, "spec": pod},
    }
    if ctx.spec.queue_name:  # Kueue's Deployment integration: the servers' GPUs count too
        meta["labels"][naming.KUEUE_QUEUE_LABEL] = ctx.spec.queue_name
        spec["template"]["metadata"]["labels"][naming.KUEUE_QUEUE_LABEL] = ctx.spec.queue_name
    if server == "generator":
        spec["template"]["metadata"]["annotations"] = {SERVES_ANNOTATION: serves}
    meta["annotations"] = {naming.SPEC_HASH_ANNOTATION: fingerprint(spec)}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def service(ctx: RunContext, server: str) -> dict[str, Any]:
    name = naming.child_name(ctx.name, server)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": naming.metadata(ctx.run, name, server, "serve"),
        "spec": {
            "clusterIP": "None",
            "selector": naming.selector(ctx.name, server),
            "ports": [
                {"name": "grpc", "port": GRPC_PORT, "targetPort": "grpc",
                 "appProtocol": "kubernetes.io/h2c"},
                {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics"},
            ],
        },
    }


def disruption_budget(ctx: RunContext, server: str) -> dict[str, Any]:
    """Drains and other voluntary evictions take a server's replicas one at a time, so a
    server with several replicas keeps serving the learner. (With one replica it does not
    block a drain: a budget that did would hold a node hostage for the whole run.)"""
    name = naming.child_name(ctx.name, server)
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": naming.metadata(ctx.run, name, server, "serve"),
        "spec": {"maxUnavailable": 1,
                 "selector": {"matchLabels": naming.selector(ctx.name, server)}},
    }


def network_policy(ctx: RunContext) -> dict[str, Any]:
    """Only this run's learn, synthesize and direct-rl pods reach its servers' gRPC port; the
    metrics port stays open to scrapers. (A chart-wide policy cannot say "the same run".)"""
    callers = {"key": naming.STAGE_LABEL, "operator": "In",
               "values": ["learn", "synthesize", "direct-rl"]}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": naming.metadata(ctx.run, policy_name(ctx), "servers", "serve"),
        "spec": {
            "podSelector": {"matchLabels": {naming.RUN_LABEL: ctx.name,
                                            naming.STAGE_LABEL: "serve"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"ports": [{"port": "grpc", "protocol": "TCP"}],
                 "from": [{"podSelector": {"matchLabels": {naming.RUN_LABEL: ctx.name},
                                           "matchExpressions": [callers]}}]},
                {"ports": [{"port": "metrics", "protocol": "TCP"}]},
            ],
        },
    }


def policy_name(ctx: RunContext) -> str:
    return naming.child_name(ctx.name, "servers")


def server_children(ctx: RunContext, serves: str = "mapper/dart") -> list[dict[str, Any]]:
    """Both servers; `serves` says what the generator holds (dart.plan's servers/arm)."""
    children = [obj for s in naming.SERVERS
                for obj in (deployment(ctx, s, serves), service(ctx, s),
                            disruption_budget(ctx, s))]
    if ctx.settings.network_policy:
        children.append(network_policy(ctx))
    return children


def is_available(obj: dict[str, Any] | None) -> bool:
    """A Deployment has rolled out its current generation and every replica is available."""
    if obj is None:
        return False
    status = obj.get("status") or {}
    wanted = obj.get("spec", {}).get("replicas", 1)
    current = status.get("observedGeneration", 0) >= obj["metadata"].get("generation", 1)
    return current and status.get("availableReplicas", 0) >= wanted


def load_failure(obj: dict[str, Any] | None) -> str | None:
    """Why a server never became ready, when Kubernetes gave up on its rollout."""
    for cond in (obj or {}).get("status", {}).get("conditions") or []:
        stalled = cond.get("type") == "Progressing" and cond.get("status") == "False"
        if stalled and cond.get("reason") == "ProgressDeadlineExceeded":
            return cond.get("message") or "the server did not become ready in time"
    return None

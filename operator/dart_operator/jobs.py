"""One Job per unit of the run's plan (dart.plan): learn, synthesize (Indexed, one completion
per shard), the ablations' units, direct-rl, one sft per arm and seed, evaluate, report. Each
runs `dart unit NAME`, the same code `dart run` runs for that unit.

Learner and SFT units scale from `spec.resources` alone: several GPUs become one process per
GPU under torchrun in one pod; several nodes become an Indexed Job whose pods find rank 0
through a headless Service (stable `<job>-<index>.<service>` host names).
"""

from __future__ import annotations

from typing import Any

from dart.config.spec import DartRunSpec
from dart.plan import Unit, fingerprint, plan
from dart_operator import naming, pods, progress, servers
from dart_operator.pods import ARTIFACTS_DIR, CONFIG_PATH, MAIN_CONTAINER, RunContext
from dart_operator.stages import STAGE_KINDS

SERVED_STAGES = ("learn", "synthesize")
"""Stage conditions whose units talk to the inference servers (direct-rl counts as learn)."""
DISTRIBUTED_STAGES = ("learn", "direct-rl", "sft")
"""Unit stages that may span several GPUs and nodes."""
RENDEZVOUS_PORT = 29500
STAGE_ORDER = STAGE_KINDS
"""The stage conditions, in pipeline order."""
TERMINATION_LOG = "/dev/termination-log"
PROGRESS_UNIT = "learn"
"""The unit whose learner the operator polls for progress (the mapper's)."""


def units(spec: DartRunSpec) -> list[Unit]:
    """The run's units, as `dart run` derives them."""
    return plan(spec)


def unit_named(spec: DartRunSpec, unit: Unit | str) -> Unit:
    """A unit, or the plan's unit of that name."""
    if isinstance(unit, Unit):
        return unit
    found = {u.name: u for u in units(spec)}
    if unit not in found:
        raise KeyError(f"the plan has no unit {unit!r}; it has {', '.join(found)}")
    return found[unit]


def inputs_hash(spec: DartRunSpec, unit: Unit | str) -> str:
    """Fingerprint of a unit's inputs, stamped on its Job to detect later spec edits."""
    return fingerprint(spec, unit_named(spec, unit))


def stage_command(ctx: RunContext, unit: Unit | str) -> list[str]:
    """`dart unit NAME ...` exactly as the workloads expect it."""
    unit = unit_named(ctx.spec, unit)
    command = ["dart", "unit", unit.name, "--config", CONFIG_PATH, "--artifacts", ARTIFACTS_DIR]
    if unit.stage == "synthesize":
        command += ["--shard", f"$(JOB_COMPLETION_INDEX)/{unit.shards}"]
    if unit.servers:
        command += ["--generator", servers.address(ctx, "generator")]
    if unit.servers in ("mapper", "untrained"):
        command += ["--scorer", servers.address(ctx, "scorer")]
    if unit.name == PROGRESS_UNIT:  # reward, KL, tokens/s for the PodMonitor and the dashboard
        command += ["--metrics-port", str(servers.METRICS_PORT)]
    if unit.stage == "report":  # the operator reads the findings from here (dart_operator.results)
        command += ["--summary-file", TERMINATION_LOG]
    return command


def is_distributed(ctx: RunContext, unit: Unit | str) -> bool:
    unit = unit_named(ctx.spec, unit)
    res = ctx.resources_of(unit.resources)
    return unit.stage in DISTRIBUTED_STAGES and (res.gpus > 1 or res.nodes > 1)


def launch(ctx: RunContext, unit: Unit | str) -> list[str]:
    """Wrap a distributed unit in torchrun: one process per GPU, rank 0 on index 0."""
    unit = unit_named(ctx.spec, unit)
    command = stage_command(ctx, unit)
    if not is_distributed(ctx, unit):
        return command
    res = ctx.resources_of(unit.resources)
    job = naming.child_name(ctx.name, unit.name)
    rendezvous = [
        "--nnodes", str(res.nodes), "--nproc-per-node", str(max(1, res.gpus)),
        "--node-rank", "$(JOB_COMPLETION_INDEX)",
        "--master-addr", f"{job}-0.{job}", "--master-port", str(RENDEZVOUS_PORT),
    ]
    return ["torchrun", *rendezvous, "-m", "dart", *command[1:]]


def pod_failure_policy() -> dict[str, Any]:
    """Exit 1-127 is the program's own verdict (bad config, bad data): retrying cannot help.
    128-255 are signals (OOM kill 137, SIGTERM 143): retried up to backoffLimit. Evictions
    and preemptions never count against the run."""
    return {
        "rules": [
            {"action": "Ignore",
             "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
            {"action": "FailJob", "onExitCodes": {
                "containerName": MAIN_CONTAINER, "operator": "In",
                "values": list(range(1, 128)),
            }},
        ]
    }


def completions(ctx: RunContext, unit: Unit | str) -> tuple[int, int]:
    """(completions, parallelism) of the unit's Job."""
    unit = unit_named(ctx.spec, unit)
    if unit.stage == "synthesize":
        return unit.shards, min(unit.shards, ctx.spec.synthesize.parallelism)
    if unit.stage in DISTRIBUTED_STAGES:
        nodes = ctx.resources_of(unit.resources).nodes
        return nodes, nodes
    return 1, 1


def job_pod(ctx: RunContext, unit: Unit | str, labels: dict[str, str]) -> dict[str, Any]:
    unit = unit_named(ctx.spec, unit)
    container = pods.main_container(ctx, unit.resources, launch(ctx, unit))
    if unit.name == PROGRESS_UNIT:
        container.setdefault("ports", []).append(
            {"name": "metrics", "containerPort": servers.METRICS_PORT})
    container["env"].append({"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
        "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}})
    if unit.stage == "report":  # it pushes the export
        container["env"] = pods.hub_export_env(ctx.spec, container["env"])
    spec = pods.pod_spec(ctx, unit.resources, [container], "Never")
    if has_service(ctx, unit):
        spec["subdomain"] = naming.child_name(ctx.name, unit.name)
    if unit.name == PROGRESS_UNIT:
        sidecar = progress.sidecar(pods.image(ctx, unit.resources),
                                   ctx.settings.image_pull_policy)
        spec["initContainers"] = [sidecar, *spec.get("initContainers", [])]
    return {"metadata": {"labels": labels}, "spec": spec}


def job(ctx: RunContext, unit: Unit | str, deadline_seconds: int | None = None) -> dict[str, Any]:
    """The unit's Job: Indexed (so every pod knows its shard or rank), suspended at creation
    when Kueue admits it, stamped with its inputs' fingerprint."""
    unit = unit_named(ctx.spec, unit)
    meta = naming.metadata(ctx.run, naming.child_name(ctx.name, unit.name), unit.name,
                           unit.stage)
    meta["annotations"] = {naming.INPUTS_ANNOTATION: inputs_hash(ctx.spec, unit)}
    template = job_pod(ctx, unit, dict(meta["labels"]))
    if ctx.spec.queue_name:  # on the Job only: Kueue admits the Job, not its pods
        meta["labels"][naming.KUEUE_QUEUE_LABEL] = ctx.spec.queue_name
    count, parallel = completions(ctx, unit)
    spec: dict[str, Any] = {
        "completions": count,
        "parallelism": parallel,
        "completionMode": "Indexed",
        "backoffLimit": ctx.spec.backoff_limit,
        "suspend": bool(ctx.spec.queue_name),
        "template": template,
    }
    if ctx.settings.pod_failure_policy:
        spec["podFailurePolicy"] = pod_failure_policy()
    if deadline_seconds is not None:
        spec["activeDeadlineSeconds"] = max(1, deadline_seconds)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec}


def rendezvous_service(ctx: RunContext, unit: Unit | str) -> dict[str, Any]:
    """Headless Service giving the stage's pods stable names (rendezvous) and, for the
    learner, the address the operator polls progress at. Not-ready pods are listed too:
    ranks must find each other before any of them is ready."""
    unit = unit_named(ctx.spec, unit)
    name = naming.child_name(ctx.name, unit.name)
    ports = [{"name": "rendezvous", "port": RENDEZVOUS_PORT}]
    if unit.name == PROGRESS_UNIT:
        ports.append({"name": "progress", "port": progress.PROGRESS_PORT})
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": naming.metadata(ctx.run, name, unit.name, unit.stage),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": naming.selector(ctx.name, unit.name),
            "ports": ports,
        },
    }


def has_service(ctx: RunContext, unit: Unit | str) -> bool:
    """The mapper's learner always has one (progress); others only when ranks must meet."""
    unit = unit_named(ctx.spec, unit)
    return unit.name == PROGRESS_UNIT or is_distributed(ctx, unit)


def stage_children(ctx: RunContext, unit: Unit | str, deadline_seconds: int | None) -> list[dict]:
    """The Job of a unit, after its headless Service where the unit needs one."""
    unit = unit_named(ctx.spec, unit)
    service = [rendezvous_service(ctx, unit)] if has_service(ctx, unit) else []
    return [*service, job(ctx, unit, deadline_seconds)]

"""One Job per stage: learn, synthesize (Indexed, one completion per shard), sft, evaluate.

Learn and SFT scale from `spec.resources` alone: several GPUs become one process per GPU
under torchrun in one pod; several nodes become an Indexed Job whose pods find rank 0
through a headless Service (stable `<job>-<index>.<service>` host names).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dart.config.spec import DartRunSpec
from dart_operator import naming, pods, progress, servers
from dart_operator.pods import ARTIFACTS_DIR, CONFIG_PATH, MAIN_CONTAINER, RunContext

SERVED_STAGES = ("learn", "synthesize")
"""Stages that talk to the inference servers."""
DISTRIBUTED_STAGES = ("learn", "sft")
"""Stages that may span several GPUs and nodes."""
RENDEZVOUS_PORT = 29500

# What each stage's outputs depend on: a later stage also depends on everything before it.
_OWN_INPUTS = {
    "learn": ("models", "dataset", "verifier", "learn"),
    "synthesize": ("synthesize",),
    "sft": ("sft",),
    "evaluate": ("evaluate",),
}
STAGE_ORDER = tuple(_OWN_INPUTS)


def stage_inputs(stage: str) -> tuple[str, ...]:
    """Spec sections whose change would invalidate the stage's outputs."""
    upto = STAGE_ORDER[: STAGE_ORDER.index(stage) + 1]
    return tuple(section for s in upto for section in _OWN_INPUTS[s])


def inputs_hash(spec: DartRunSpec, stage: str) -> str:
    """Fingerprint of a stage's inputs, stamped on its Job to detect later spec edits."""
    dumped = spec.model_dump(mode="json", by_alias=False)
    picked = {section: dumped[section] for section in stage_inputs(stage)}
    text = json.dumps(picked, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stage_command(ctx: RunContext, stage: str) -> list[str]:
    """`dart <stage> ...` exactly as the workloads expect it."""
    command = ["dart", stage, "--config", CONFIG_PATH, "--artifacts", ARTIFACTS_DIR]
    if stage == "synthesize":
        command += ["--shard", f"$(JOB_COMPLETION_INDEX)/{ctx.spec.synthesize.shards}"]
    if stage in SERVED_STAGES:
        command += ["--generator", servers.address(ctx, "generator"),
                    "--scorer", servers.address(ctx, "scorer")]
    if stage == "learn":  # reward, KL, tokens/s for the PodMonitor and the dashboard
        command += ["--metrics-port", str(servers.METRICS_PORT)]
    return command


def is_distributed(ctx: RunContext, stage: str) -> bool:
    res = ctx.resources_of(stage)
    return stage in DISTRIBUTED_STAGES and (res.gpus > 1 or res.nodes > 1)


def launch(ctx: RunContext, stage: str) -> list[str]:
    """Wrap a distributed stage in torchrun: one process per GPU, rank 0 on index 0."""
    command = stage_command(ctx, stage)
    if not is_distributed(ctx, stage):
        return command
    res = ctx.resources_of(stage)
    job = naming.child_name(ctx.name, stage)
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


def completions(ctx: RunContext, stage: str) -> tuple[int, int]:
    """(completions, parallelism) of the stage's Job."""
    if stage == "synthesize":
        return ctx.spec.synthesize.shards, ctx.spec.synthesize.parallelism
    if stage in DISTRIBUTED_STAGES:
        nodes = ctx.resources_of(stage).nodes
        return nodes, nodes
    return 1, 1


def job_pod(ctx: RunContext, stage: str, labels: dict[str, str]) -> dict[str, Any]:
    container = pods.main_container(ctx, stage, launch(ctx, stage))
    if stage == "learn":
        container.setdefault("ports", []).append(
            {"name": "metrics", "containerPort": servers.METRICS_PORT})
    container["env"].append({"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
        "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}})
    spec = pods.pod_spec(ctx, stage, [container], "Never")
    if has_service(ctx, stage):
        spec["subdomain"] = naming.child_name(ctx.name, stage)
    if stage == "learn":
        sidecar = progress.sidecar(pods.image(ctx, stage), ctx.settings.image_pull_policy)
        spec["initContainers"] = [sidecar, *spec.get("initContainers", [])]
    return {"metadata": {"labels": labels}, "spec": spec}


def job(ctx: RunContext, stage: str, deadline_seconds: int | None = None) -> dict[str, Any]:
    """The stage's Job: Indexed (so every pod knows its shard or rank), suspended at creation
    when Kueue admits it, stamped with its inputs' fingerprint."""
    meta = naming.metadata(ctx.run, naming.child_name(ctx.name, stage), stage, stage)
    meta["annotations"] = {naming.INPUTS_ANNOTATION: inputs_hash(ctx.spec, stage)}
    template = job_pod(ctx, stage, dict(meta["labels"]))
    if ctx.spec.queue_name:  # on the Job only: Kueue admits the Job, not its pods
        meta["labels"][naming.KUEUE_QUEUE_LABEL] = ctx.spec.queue_name
    count, parallel = completions(ctx, stage)
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


def rendezvous_service(ctx: RunContext, stage: str) -> dict[str, Any]:
    """Headless Service giving the stage's pods stable names (rendezvous) and, for the
    learner, the address the operator polls progress at. Not-ready pods are listed too:
    ranks must find each other before any of them is ready."""
    name = naming.child_name(ctx.name, stage)
    ports = [{"name": "rendezvous", "port": RENDEZVOUS_PORT}]
    if stage == "learn":
        ports.append({"name": "progress", "port": progress.PROGRESS_PORT})
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": naming.metadata(ctx.run, name, stage, stage),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": naming.selector(ctx.name, stage),
            "ports": ports,
        },
    }


def has_service(ctx: RunContext, stage: str) -> bool:
    """The learner always has one (progress); SFT only when its ranks must meet."""
    return stage == "learn" or (stage == "sft" and is_distributed(ctx, stage))


def stage_children(ctx: RunContext, stage: str, deadline_seconds: int | None) -> list[dict]:
    """The Job of a stage, after its headless Service where the stage needs one."""
    service = [rendezvous_service(ctx, stage)] if has_service(ctx, stage) else []
    return [*service, job(ctx, stage, deadline_seconds)]

"""Desired children and the changes that bring the cluster there (sample-controller's
"compare the actual state with the desired, and converge the two"), as pure functions.

Level-based: the same observation always gives the same plan, and applying a plan twice is
harmless. Jobs of finished stages are never touched (they are the record of what ran);
Jobs, Services and PVCs are never updated in place (their specs are immutable or carry no
drift worth fixing); a changed ConfigMap or server Deployment is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dart.plan import Unit
from dart_operator import jobs, naming, servers, storage
from dart_operator.assess import Assessment, Children, template_hash

Ref = tuple[str, str]
"""(kind, name) of a child."""


@dataclass(frozen=True)
class Plan:
    """What to change; `update` holds full desired objects to replace the live ones with."""

    create: list[dict[str, Any]] = field(default_factory=list)
    update: list[dict[str, Any]] = field(default_factory=list)
    delete: list[Ref] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def wanted(a: Assessment) -> list[dict[str, Any]]:
    """Children the run needs right now, in creation order."""
    ctx = a.ctx
    assert ctx is not None
    base = [storage.config_map(ctx)]
    if claim := storage.artifacts_claim(ctx):
        base.append(claim)
    if a.failure or a.suspended or a.preempted or a.current is None:
        return base
    if servers_needed(a):  # served units first, one at a time; the rest waits for their GPUs
        assert a.serving is not None
        base += servers.server_children(ctx, f"{a.serving.servers}/{a.serving.arm}")
        if not a.servers_ready:
            return base  # a learner without servers would only crash-loop
        return base + [finish_job(a, a.serving, o)
                       for o in jobs.stage_children(ctx, a.serving, a.deadline_left)]
    # every unit whose inputs are done: the SFT arms and seeds side by side
    return base + [finish_job(a, unit, obj) for unit in a.launchable
                   for obj in jobs.stage_children(ctx, unit, a.deadline_left)]


def finish_job(a: Assessment, unit: Unit, obj: dict[str, Any]) -> dict[str, Any]:
    """Jobs carry their pod template's fingerprint, so an edit their pods cannot follow
    (image, GPUs) is seen and reported rather than silently ignored; and the controller that
    runs them when it is not the Job controller (MultiKueue)."""
    if obj["kind"] == "Job":
        assert a.ctx is not None
        obj["metadata"].setdefault("annotations", {})[naming.POD_HASH_ANNOTATION] = \
            template_hash(a.ctx, unit)
        if a.ctx.settings.job_managed_by:
            obj["spec"]["managedBy"] = a.ctx.settings.job_managed_by
    return obj


def drifted(want: dict[str, Any], live: dict[str, Any]) -> bool:
    """Whether a live child must be replaced by the desired one."""
    if want["kind"] == "ConfigMap":
        return want.get("data") != live.get("data")
    if want["kind"] == "Deployment":
        key = naming.SPEC_HASH_ANNOTATION
        ours = want["metadata"]["annotations"][key]
        return ours != (live["metadata"].get("annotations") or {}).get(key)
    return False


def server_refs(a: Assessment) -> list[Ref]:
    assert a.ctx is not None
    names = [naming.child_name(a.ctx.name, s) for s in naming.SERVERS]
    refs = [(kind, name) for name in names
            for kind in ("Deployment", "Service", "PodDisruptionBudget")]
    return refs + [("NetworkPolicy", servers.policy_name(a.ctx))]


def stopped_jobs(a: Assessment) -> list[Ref]:
    """Unfinished Jobs of a run that must not go on (suspended or failed), and a preempted
    one: deleting them deletes their pods; artifacts stay, and a resumed learner continues
    from its checkpoint. (Deleted, not suspended: the queue owns a Job's `suspend`.)"""
    assert a.ctx is not None
    if a.preempted and not (a.suspended or a.failure):
        return [("Job", naming.child_name(a.ctx.name, a.preempted))]
    if not (a.suspended or a.failure):
        return []
    return [("Job", naming.child_name(a.ctx.name, u)) for u, st in a.units.items() if st.active]


def expired(a: Assessment, children: Children, now: datetime) -> list[Ref]:
    """After ttlSecondsAfterFinished, every child but the artifacts (the run's product)."""
    assert a.ctx is not None
    ttl = a.ctx.spec.ttl_seconds_after_finished
    done = a.old_status.get("completionTime")
    if ttl is None or done is None:
        return []
    finished = datetime.fromisoformat(done.replace("Z", "+00:00"))
    if (now - finished).total_seconds() < ttl:
        return []
    kinds = ("Job", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap")
    return [(kind, name) for kind in kinds for name in sorted(children.get(kind, {}))]


def existing(children: Children, ref: Ref) -> dict[str, Any] | None:
    return children.get(ref[0], {}).get(ref[1])


def servers_needed(a: Assessment) -> bool:
    """A launchable unit talks to the servers and the run may go on."""
    return a.serving is not None and not (a.failure or a.suspended or a.preempted)


def keeping_server_logs(a: Assessment, now: datetime) -> bool:
    """A failed run's servers stay up a while: their logs are often what explains the
    failure, and they go with the pods."""
    assert a.ctx is not None
    if a.failure is None and a.old_status.get("phase") != "Failed":
        return False
    done = a.old_status.get("completionTime")
    since = 0.0 if done is None else (
        now - datetime.fromisoformat(done.replace("Z", "+00:00"))).total_seconds()
    return since < a.ctx.settings.failed_server_log_seconds


def lingering_servers(a: Assessment, children: Children, now: datetime) -> list[Ref]:
    """Servers of a finished run, once no longer kept for their logs."""
    if keeping_server_logs(a, now):
        return []
    return [r for r in server_refs(a) if existing(children, r)]


def plan(a: Assessment, children: Children, now: datetime) -> Plan:
    """Creates, updates and deletes that converge the children on what the run needs."""
    if a.ctx is None:
        return Plan()  # nothing moves until the spec is usable again
    if a.terminal:
        gone = expired(a, children, now)
        return Plan(delete=gone + [r for r in lingering_servers(a, children, now)
                                   if r not in gone])
    keep = servers_needed(a) or keeping_server_logs(a, now)
    unneeded = [] if keep else server_refs(a)
    delete = [r for r in unneeded + stopped_jobs(a) if existing(children, r)]
    if a.refusing:
        return Plan(delete=delete)  # a refused spec still stops (suspend), never starts
    want = wanted(a)
    create = [o for o in want if existing(children, (o["kind"], o["metadata"]["name"])) is None]
    update = [o for o in want if (live := existing(children, (o["kind"], o["metadata"]["name"])))
              and drifted(o, live)]
    return Plan(create=create, update=update, delete=delete)

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

from dart_operator import jobs, naming, servers, storage
from dart_operator.assess import Assessment, Children

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
    if a.failure or a.suspended or a.current is None:
        return base
    if a.serving is not None:  # served units first, one at a time; the rest waits for their GPUs
        base += servers.server_children(ctx, f"{a.serving.servers}/{a.serving.arm}")
        if not a.servers_ready:
            return base  # a learner without servers would only crash-loop
        return base + jobs.stage_children(ctx, a.serving, a.deadline_left)
    # every unit whose inputs are done: the SFT arms and seeds side by side
    return base + [obj for unit in a.launchable
                   for obj in jobs.stage_children(ctx, unit, a.deadline_left)]


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
    refs = [(kind, name) for name in names for kind in ("Deployment", "Service")]
    return refs + [("NetworkPolicy", servers.policy_name(a.ctx))]


def stopped_jobs(a: Assessment) -> list[Ref]:
    """Unfinished Jobs of a run that must not go on (suspended or failed): deleting them
    deletes their pods; artifacts stay, and a resumed learner continues from its checkpoint."""
    if not (a.suspended or a.failure):
        return []
    assert a.ctx is not None
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
    kinds = ("Job", "Deployment", "Service", "NetworkPolicy", "ConfigMap")
    return [(kind, name) for kind in kinds for name in sorted(children.get(kind, {}))]


def existing(children: Children, ref: Ref) -> dict[str, Any] | None:
    return children.get(ref[0], {}).get(ref[1])


def plan(a: Assessment, children: Children, now: datetime) -> Plan:
    """Creates, updates and deletes that converge the children on what the run needs."""
    if a.ctx is None:
        return Plan()  # nothing moves until the spec is usable again
    if a.terminal:
        return Plan(delete=expired(a, children, now))
    want = wanted(a)
    names = {(o["kind"], o["metadata"]["name"]) for o in want}
    unneeded = [r for r in server_refs(a) if r not in names and existing(children, r)]
    delete = unneeded + [r for r in stopped_jobs(a) if existing(children, r)]
    if a.refused:
        return Plan(delete=delete)  # a refused spec still stops (suspend), never starts
    create = [o for o in want if existing(children, (o["kind"], o["metadata"]["name"])) is None]
    update = [o for o in want if (live := existing(children, (o["kind"], o["metadata"]["name"])))
              and drifted(o, live)]
    return Plan(create=create, update=update, delete=delete)

"""The run's status from its assessment: conditions first, the phase and Ready from them.

Conditions follow the Kubernetes convention: every type is always present, its
lastTransitionTime moves only when its status flips, and each carries the generation it was
computed from. Events are derived by comparing old and new conditions, so every transition
is announced exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dart_operator import jobs, naming
from dart_operator.assess import Assessment, Children
from dart_operator.results import report_summary
from dart_operator.stages import CONDITION_OF_STAGE, KIND_OF_UNIT_STAGE

CONDITION_TYPES = ("Ready", "ServersReady", *CONDITION_OF_STAGE.values(), "Suspended",
                   "Failed", "SpecRefused")
MANAGED_FIELDS = ("observedGeneration", "phase", "stage", "conditions", "progress", "restarts",
                  "artifacts", "startTime", "completionTime", "activeSeconds", "results")
"""Status keys the operator owns; anything else in status (kopf's own) is left alone."""
REFUSAL_REASONS = ("FailedCreate", "FailedUpdate", "FailedDelete")


@dataclass(frozen=True)
class Refusal:
    """A child the API server would not create, update or delete, and what it answered
    (a quota, an admission webhook, missing RBAC): the run waits and the status says why."""

    verb: str
    kind: str
    name: str
    code: int
    message: str

    @property
    def reason(self) -> str:
        return f"Failed{self.verb.capitalize()}"

    @property
    def text(self) -> str:
        return f"could not {self.verb} {self.kind} {self.name} (HTTP {self.code}): {self.message}"


def rfc3339(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(kind: str, holds: bool, reason: str, message: str) -> dict[str, Any]:
    return {"type": kind, "status": "True" if holds else "False", "reason": reason,
            "message": message}


def phase_of(a: Assessment) -> str:
    if a.failure:
        return "Failed"
    if a.current is None:
        return "Succeeded"
    if a.suspended:
        return "Suspended"
    if a.stages[a.current].state == "Queued":
        return "Pending"  # its Job waits for admission by Kueue: nothing of it runs
    started = any(state.state != "NotStarted" for state in a.stages.values())
    return "Running" if started else "Pending"


def stage_condition(a: Assessment, stage: str) -> dict[str, Any]:
    state = a.stages[stage]
    kind = CONDITION_OF_STAGE[stage]
    if state.state == "Succeeded":
        return condition(kind, True, "Completed", f"stage {stage} finished")
    if stage == a.current and a.suspended and not state.finished:
        return condition(kind, False, "Suspended", "the run is suspended; resumes here")
    if a.preempted and _serves(a, stage):
        return condition(kind, False, "Preempted", preempted_message(a))
    trouble = a.stage_troubles.get(stage)
    if state.state == "Running" and trouble:
        return condition(kind, False, trouble.reason, trouble.message)
    if state.state != "NotStarted":
        return condition(kind, False, state.reason or state.state, state.message or "")
    waiting = stage == a.current and _serves(a, stage) and not a.servers_ready
    if waiting and not a.failure:
        return condition(kind, False, "WaitingForServers", "waiting for the servers to be ready")
    return condition(kind, False, "NotStarted", f"stage {stage} has not started")


def _serves(a: Assessment, stage: str) -> bool:
    """Whether the unit the servers are up for counts towards this stage condition."""
    return a.serving is not None and KIND_OF_UNIT_STAGE[a.serving.stage] == stage


def preempted_message(a: Assessment) -> str:
    queue = a.ctx.spec.queue_name if a.ctx else None
    return (f"queue {queue} took back the GPUs of unit {a.preempted}: its Job and the servers "
            f"are released and come back when the queue admits them again (a learner resumes "
            f"from its last checkpoint)")


def servers_condition(a: Assessment) -> dict[str, Any]:
    if a.failure and a.failure.reason == "ModelLoadFailed":
        return condition("ServersReady", False, "ModelLoadFailed", a.failure.message)
    if a.preempted and not a.failure:
        return condition("ServersReady", False, "Preempted", preempted_message(a))
    needed = a.serving is not None and not (a.failure or a.suspended)
    if not needed:  # reported as decided, even while the deletion is still under way
        return condition("ServersReady", False, "NotNeeded", "no pending stage needs the servers")
    if a.servers_ready:
        return condition("ServersReady", True, "Available", "generator and scorer are serving")
    for server in naming.SERVERS:
        if trouble := a.troubles.get(server):
            return condition("ServersReady", False, trouble.reason,
                             f"{server} server: {trouble.message}")
    return condition("ServersReady", False, "Starting", "servers are loading their models")


def current_trouble(a: Assessment) -> tuple[str, str] | None:
    """Pod-level trouble that holds the current stage back (its servers' or its own)."""
    if a.current is None or a.suspended:
        return None
    waits_on = [*naming.SERVERS] if a.serving is not None and not a.servers_ready else []
    for component in waits_on:
        if trouble := a.troubles.get(component):
            return trouble.reason, trouble.message
    if trouble := a.stage_troubles.get(a.current):
        return trouble.reason, trouble.message
    return None


def failed_condition(a: Assessment) -> dict[str, Any]:
    if a.failure:
        return condition("Failed", True, a.failure.reason, a.failure.message)
    return condition("Failed", False, "NoFailure", "no stage has failed")


def refused_condition(a: Assessment) -> dict[str, Any]:
    if a.invalid_edit:
        message = (f"{a.invalid_edit}; the run goes on with the last accepted spec and starts "
                   f"nothing new until the edit is fixed or reverted")
        return condition("SpecRefused", True, "InvalidSpec", message)
    if not a.refused and a.restart_pending:
        message = (f"the pods of running unit(s) {', '.join(a.restart_pending)} differ from "
                   f"the spec (image, GPUs, memory...); a Job's pods cannot change, so the "
                   f"edit applies when the unit next starts: suspend and resume to apply it "
                   f"now (the learner resumes from its checkpoint)")
        return condition("SpecRefused", False, "AppliesOnRestart", message)
    if not a.refused:
        return condition("SpecRefused", False, "SpecAccepted", "the spec is in effect")
    message = (f"the spec changed the inputs of already started unit(s) "
               f"{', '.join(a.refused)}; revert the change or create a new DartRun")
    return condition("SpecRefused", True, "StartedStageInputsChanged", message)


def describe_current(a: Assessment, progress: dict[str, Any] | None) -> str:
    if a.current is None:
        return "every stage finished"
    percent = (progress or {}).get("percent")
    return f"stage {a.current}" + (f" at {percent}%" if percent is not None else "")


def ready_condition(a: Assessment, phase: str, progress: dict[str, Any] | None,
                    refusals: Sequence[Refusal] = ()) -> dict:
    """Ready means the run's results are ready; otherwise the reason says what it waits on."""
    if phase == "Succeeded":
        claim = a.ctx.claim if a.ctx else "?"
        return condition("Ready", True, "Succeeded", f"every stage finished; artifacts in {claim}")
    if a.failure:
        return condition("Ready", False, a.failure.reason, a.failure.message)
    if a.refusing:
        return condition("Ready", False, "SpecRefused", refused_condition(a)["message"])
    if refusals:
        return condition("Ready", False, refusals[0].reason, "; ".join(r.text for r in refusals))
    if a.preempted:
        return condition("Ready", False, "Preempted", preempted_message(a))
    if trouble := current_trouble(a):
        return condition("Ready", False, *trouble)
    if a.current and a.stages[a.current].state == "Queued" and a.ctx:
        return condition("Ready", False, "Queued", f"stage {a.current} waits for admission by "
                         f"queue {a.ctx.spec.queue_name}")
    return condition("Ready", False, phase, describe_current(a, progress))


def progress_of(a: Assessment, learner: dict[str, Any] | None) -> dict[str, Any] | None:
    """Learn: the learner's own report (kept between polls); synthesize: shards done."""
    if a.current_unit == jobs.PROGRESS_UNIT:
        old = a.old_status
        return learner or (old.get("progress") if old.get("stage") == "learn" else None)
    if a.current == "synthesize" and a.ctx and a.current_unit:
        done, total = a.units[a.current_unit].succeeded_pods, a.ctx.spec.synthesize.shards
        return {"step": done, "total": total, "percent": int(100 * done / total)}
    if a.current is None:
        return {"percent": 100}
    return None


def restarts(children: Children) -> int:
    """Job retries (failed pods) plus container restarts of every pod of the run."""
    jobs_ = children.get("Job", {}).values()
    retries = sum(job.get("status", {}).get("failed", 0) for job in jobs_)
    statuses = [
        s for pod in children.get("Pod", {}).values()
        for key in ("containerStatuses", "initContainerStatuses")
        for s in pod.get("status", {}).get(key) or []
    ]
    return retries + sum(s.get("restartCount", 0) for s in statuses)


def conditions_of(a: Assessment, phase: str, progress: dict[str, Any] | None,
                  refusals: Sequence[Refusal] = ()) -> list[dict]:
    return [
        ready_condition(a, phase, progress, refusals),
        servers_condition(a),
        *(stage_condition(a, stage) for stage in jobs.STAGE_ORDER),
        condition("Suspended", a.suspended, "SuspendedByUser" if a.suspended else "NotSuspended",
                  "spec.suspend is true" if a.suspended else "spec.suspend is false"),
        failed_condition(a),
        refused_condition(a),
    ]


def stamp(new: list[dict], old: list[dict], now: datetime, generation: int) -> list[dict]:
    """Carry lastTransitionTime over unless the status flipped; record the generation."""
    before = {c.get("type"): c for c in old}
    out = []
    for cond in new:
        prior = before.get(cond["type"])
        unchanged = prior is not None and prior.get("status") == cond["status"]
        moved = prior.get("lastTransitionTime") if unchanged else rfc3339(now)
        out.append({**cond, "lastTransitionTime": moved, "observedGeneration": generation})
    return out


def build_status(a: Assessment, children: Children, generation: int, now: datetime,
                 learner: dict[str, Any] | None = None,
                 refusals: Sequence[Refusal] = ()) -> dict[str, Any]:
    """The full status the operator owns (MANAGED_FIELDS), at `now`."""
    old = a.old_status
    if a.terminal:
        return {**{k: old.get(k) for k in MANAGED_FIELDS}, "observedGeneration": generation}
    phase = phase_of(a)
    progress = progress_of(a, learner)
    finished = phase in ("Succeeded", "Failed")
    return {
        "observedGeneration": generation,
        "phase": phase,
        "stage": a.current or jobs.STAGE_ORDER[-1],
        "conditions": stamp(conditions_of(a, phase, progress, refusals),
                            old.get("conditions") or [], now, generation),
        "progress": progress,
        "restarts": restarts(children),
        "artifacts": {"claim": a.ctx.claim, "path": "/"} if a.ctx else None,
        "startTime": a.start_time,
        "completionTime": (old.get("completionTime") or rfc3339(now)) if finished else None,
        "activeSeconds": a.active_seconds or None,
        # kept once read: the report's pod goes with its Job (TTL), the findings stay
        "results": report_summary(children.get("Pod", {})) or old.get("results"),
    }


def refusal_events(old: dict[str, Any], refusals: Sequence[Refusal]) -> list[tuple[str, str, str]]:
    """A Warning per child the API refused, once: not again while the status says it."""
    ready = next((c for c in old.get("conditions") or [] if c.get("type") == "Ready"), {})
    said = (ready.get("message") or "") if ready.get("reason") in REFUSAL_REASONS else ""
    return [("Warning", r.reason, r.text) for r in refusals if r.text not in said]


def transitions(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(event type, reason, message) for every condition that flipped and a phase change."""
    before = {c.get("type"): c for c in old.get("conditions") or []}
    events = []
    for cond in new.get("conditions") or []:
        prior = before.get(cond["type"])
        if prior is None and cond["status"] == "False":
            continue  # a new run starts with every condition False: not news
        prior = prior or {}
        if prior.get("status") == cond["status"] and prior.get("reason") == cond["reason"]:
            continue
        if cond["type"] == "Ready" and cond["reason"] in REFUSAL_REASONS:
            continue  # announced child by child, as Warnings (`refusal_events`)
        bad = cond["type"] in ("Failed", "SpecRefused") and cond["status"] == "True"
        reason = cond["type"] if cond["status"] == "True" else cond["reason"]
        message = f"{cond['type']}={cond['status']}: {cond['message']}"
        events.append(("Warning" if bad else "Normal", reason, message))
    if old.get("phase") != new.get("phase"):
        events.append(("Normal", "Phase", f"{old.get('phase') or 'New'} -> {new.get('phase')}"))
    return events

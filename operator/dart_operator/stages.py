"""What a stage's Job says about the stage: not started, queued, running, done or failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

State = Literal["NotStarted", "Queued", "Running", "Succeeded", "Failed"]

CONDITION_OF_STAGE = {
    "learn": "Learned",
    "synthesize": "Synthesized",
    "sft": "FineTuned",
    "evaluate": "Evaluated",
}


@dataclass(frozen=True)
class StageState:
    """One stage as observed through its Job."""

    state: State
    reason: str | None = None
    message: str | None = None
    failed_pods: int = 0
    succeeded_pods: int = 0
    start_time: str | None = None
    completion_time: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("Succeeded", "Failed")

    @property
    def active(self) -> bool:
        return self.state in ("Queued", "Running")


def _true_condition(job: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in job.get("status", {}).get("conditions") or []:
        if cond.get("type") == kind and cond.get("status") == "True":
            return cond
    return None


def job_state(job: dict[str, Any] | None) -> StageState:
    """Read the Job controller's verdict: terminal conditions first, then suspension."""
    if job is None:
        return StageState("NotStarted")
    status = job.get("status") or {}
    common = {
        "failed_pods": status.get("failed", 0),
        "succeeded_pods": status.get("succeeded", 0),
        "start_time": status.get("startTime"),
        "completion_time": status.get("completionTime"),
    }
    if _true_condition(job, "Complete"):
        return StageState("Succeeded", "Completed", "finished", **common)
    if failed := _true_condition(job, "Failed"):
        reason = failed.get("reason") or "JobFailed"
        return StageState("Failed", reason, failed.get("message") or reason, **common)
    if job.get("spec", {}).get("suspend"):
        return StageState("Queued", "Queued", "waiting for admission by the queue", **common)
    active = status.get("active", 0)
    message = f"{active} pod(s) active, {common['failed_pods']} failed so far"
    return StageState("Running", "Running", message, **common)


KIND_OF_UNIT_STAGE = {"learn": "learn", "direct-rl": "learn", "synthesize": "synthesize",
                      "sft": "sft", "evaluate": "evaluate", "report": "evaluate"}
"""The stage condition a plan unit's stage counts towards (direct-rl learns, the report
finishes the evaluation)."""
STAGE_KINDS = tuple(CONDITION_OF_STAGE)


def _first(states: list[StageState], state: State) -> StageState | None:
    return next((s for s in states if s.state == state), None)


def combined(states: list[StageState]) -> StageState:
    """Several units' Jobs read as one stage: failed if one failed, done when all are, else
    running or queued if any is."""
    if not states:
        return StageState("NotStarted")
    pods = {"failed_pods": sum(s.failed_pods for s in states),
            "succeeded_pods": sum(s.succeeded_pods for s in states),
            "start_time": min((s.start_time for s in states if s.start_time), default=None)}
    if failed := _first(states, "Failed"):
        return StageState("Failed", failed.reason, failed.message, **pods)
    if all(s.state == "Succeeded" for s in states):
        done = max((s.completion_time for s in states if s.completion_time), default=None)
        return StageState("Succeeded", "Completed", "finished", completion_time=done, **pods)
    for state in ("Running", "Queued"):
        if some := _first(states, state):
            return StageState(state, some.reason, some.message, **pods)
    if _first(states, "Succeeded"):
        return StageState("Running", "Running", "some units finished", **pods)
    return StageState("NotStarted", **pods)

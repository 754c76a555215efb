"""The DartRun status: what the operator reports and `kubectl get dartruns` shows.

Only the operator writes it; it lives here so the CRD schema has one source.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

Phase = Literal["Pending", "Running", "Succeeded", "Failed", "Suspended"]
STAGES = ("learn", "synthesize", "sft", "evaluate")


class StatusModel(BaseModel):
    """Status is written by code, not users: lenient on read, camelCase on the wire."""

    model_config = ConfigDict(
        extra="allow",
        alias_generator=to_camel,
        validate_by_name=True,
        serialize_by_alias=True,
        use_attribute_docstrings=True,
    )


class Condition(StatusModel):
    """A Kubernetes-style condition."""

    type: str
    """ServersReady, Learned, Synthesized, FineTuned, Evaluated, Suspended, Failed or Ready."""
    status: Literal["True", "False", "Unknown"]
    """Whether the condition holds."""
    reason: str | None = None
    """CamelCase reason, e.g. BackoffLimitExceeded."""
    message: str | None = None
    """Human-readable detail."""
    last_transition_time: str | None = None
    """RFC 3339 time the status last changed."""
    observed_generation: int | None = None
    """Spec generation the condition was computed from."""


class StageProgress(StatusModel):
    """Progress of the running stage, read from its progress.json."""

    step: int | None = None
    """Steps or items done."""
    total: int | None = None
    """Steps or items in all."""
    percent: int | None = None
    """step / total, in percent."""
    eta_seconds: int | None = None
    """Estimated seconds left."""
    reward_mean: float | None = None
    """Learner: mean reward of the last step."""
    answer_preservation: float | None = None
    """Learner: fraction of rewrites that kept the gold answer in the last step."""


class ArtifactLocation(StatusModel):
    """Where the run's outputs are."""

    claim: str | None = None
    """PersistentVolumeClaim holding the artifacts."""
    path: str | None = None
    """Folder inside the claim."""


class SetScore(StatusModel):
    """One arm's accuracy on one evaluation set, over its seeds."""

    mean: float
    """Mean accuracy over the seeds."""
    std: float
    """Sample std over the seeds (0 for one seed)."""
    seeds: list[float]
    """Accuracy of seed 0, 1, ..."""


class GapScore(StatusModel):
    """The fraction of the oracle gap DART recovers on one set (dart.summary)."""

    mean: float | None = None
    """Mean over the seeds where the oracle is ahead of sft-original; None if none is."""
    std: float | None = None
    """Sample std over those seeds."""
    seeds: list[float | None] = []
    """Per seed; None where the oracle is not ahead."""


class ResultsSummary(StatusModel):
    """What the run found, small enough for a status: the `summary` of
    evaluate/results.json and `status.results` of a DartRun, one schema."""

    arms: dict[str, dict[str, SetScore]] = {}
    """Arm (base, dart, sft-original, ...) -> evaluation set -> accuracy."""
    oracle_gap: dict[str, GapScore] | None = None
    """Per set; None when the run lacks the dart, sft-original or sft-oracle arm."""
    headline: str = ""
    """One line: the oracle gap DART recovers per set (or why it was not measured)."""
    verdict: str = ""
    """One line: DART ahead of, level with or behind plain SFT, per set."""


class DartRunStatus(StatusModel):
    """Observed state of a DartRun."""

    observed_generation: int | None = None
    """Spec generation the status reflects."""
    phase: Phase | None = None
    """Summary derived from the conditions."""
    stage: str | None = None
    """Current (or last) stage: learn, synthesize, sft, evaluate."""
    conditions: list[Condition] = []
    """Detailed conditions; Ready summarises the others."""
    progress: StageProgress | None = None
    """Progress of the current stage."""
    restarts: int | None = None
    """Pod restarts and Job retries so far."""
    artifacts: ArtifactLocation | None = None
    """Artifact locations."""
    start_time: str | None = None
    """When the operator started the run, i.e. created its first children (RFC 3339)."""
    completion_time: str | None = None
    """When the run finished (RFC 3339)."""
    active_seconds: int | None = None
    """Seconds the run ran unsuspended before its last suspension: activeDeadlineSeconds
    counts these plus the time since it last resumed (the clock stops while suspended)."""
    results: ResultsSummary | None = None
    """What the run found, from its report unit (the full report is report/ in the artifacts)."""

"""Where a run stands, from its spec and its observed children: the one place that decides.

Everything here is a pure function of plain dicts and the current time, so the state
machine is tested without a cluster. `Children` maps a kind to {name: object}; it holds only
objects the run controls (pods are listed by label: they belong to the run's Jobs and
ReplicaSets, not to the run itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from dart.config.load import SpecError, parse_dartrun
from dart.config.spec import API_VERSION, KIND
from dart.plan import Unit
from dart_operator import jobs, naming, servers
from dart_operator.pods import CONFIG_FILE, RunContext, unknown_node_pools
from dart_operator.settings import Settings
from dart_operator.stages import (
    CONDITION_OF_STAGE,
    KIND_OF_UNIT_STAGE,
    STAGE_KINDS,
    StageState,
    combined,
    job_state,
)
from dart_operator.trouble import Trouble, pod_troubles

Children = dict[str, dict[str, dict[str, Any]]]
TERMINAL_PHASES = ("Succeeded", "Failed")


@dataclass(frozen=True)
class Failure:
    """Why the run failed: a CamelCase reason and one sentence."""

    reason: str
    message: str


@dataclass(frozen=True)
class Assessment:
    """The run's situation; desired children and status are both derived from it."""

    ctx: RunContext | None
    """None when the spec cannot be used (then `failure` says why)."""
    stages: dict[str, StageState]
    """Per stage condition (learn, synthesize, sft, evaluate): its units' Jobs combined."""
    units: dict[str, StageState] = field(default_factory=dict)
    """Per plan unit (dart.plan), in plan order: what its Job says."""
    launchable: tuple[Unit, ...] = ()
    """Units not done whose dependencies are: their Jobs should exist."""
    serving: Unit | None = None
    """The unit the inference servers are up for (one served unit at a time)."""
    current_unit: str | None = None
    """First unit in plan order not yet succeeded."""
    servers_ready: bool = False
    failure: Failure | None = None
    current: str | None = None
    """Stage condition of the first unit not yet succeeded; None when every unit is done."""
    refused: tuple[str, ...] = ()
    """Started units whose inputs the spec has since changed."""
    restart_pending: tuple[str, ...] = ()
    """Running units whose pods the spec now wants different (image, GPUs, memory...): a
    Job's pods cannot change, so the edit applies when the unit's Job is next created."""
    invalid_edit: str | None = None
    """Why an edit of a started run is unusable; the run goes on with the last accepted spec
    (the one in its ConfigMap) and nothing new starts until the edit is fixed."""
    suspended: bool = False
    start_time: str | None = None
    deadline_left: int | None = None
    troubles: dict[str, Trouble] = field(default_factory=dict)
    """Pod-level trouble by component (server name or plan unit): pull errors, OOM loops,
    unschedulable pods."""
    stage_troubles: dict[str, Trouble] = field(default_factory=dict)
    """Per stage condition, the first trouble of its running units' pods (plan order)."""
    active_seconds: int = 0
    """Unsuspended seconds banked before the current spell (what the deadline counts)."""
    terminal: bool = False
    """The run finished earlier: nothing is started again, only the TTL applies."""
    preempted: str | None = None
    """The served unit the queue took back after admitting it (Kueue preempts by suspending
    the Job): its Job and the servers go, so that none of the run's GPUs stay held."""
    old_status: dict[str, Any] = field(default_factory=dict)

    @property
    def refusing(self) -> bool:
        """The spec as it stands is not applied: nothing starts or changes (stops still do)."""
        return bool(self.refused or self.invalid_edit)


def volume_problems(spec: Any, settings: Settings) -> list[str]:
    """A multi-node stage needs its artifacts volume on every node: a ReadWriteOnce claim the
    operator creates would leave all but one node's pods Pending for ever."""
    if spec.artifacts.existing_claim or settings.artifacts_access_mode == "ReadWriteMany":
        return []  # a claim the run brings is the run's business: its mode is not visible here
    return [f"resources.{name}.nodes is {res.nodes}, but the artifacts volume is "
            f"{settings.artifacts_access_mode}: use nodes: 1, an artifacts.existingClaim that is "
            f"ReadWriteMany, or an operator with DART_ARTIFACTS_ACCESS_MODE=ReadWriteMany"
            for name, res in spec.resources if res.nodes > 1]


def parse_context(run: dict[str, Any], settings: Settings) -> RunContext:
    """Validate the run's spec as every workload will, plus what only the operator knows."""
    meta = run["metadata"]
    document = {"apiVersion": API_VERSION, "kind": KIND,
                "metadata": {"name": meta["name"]}, "spec": run.get("spec") or {}}
    spec = parse_dartrun(document, source=f"dartrun {meta['name']}").spec
    problems = unknown_node_pools(spec, settings)
    if problems := problems + volume_problems(spec, settings):
        raise SpecError(f"dartrun {meta['name']}", problems)
    return RunContext(run=run, spec=spec, settings=settings)


def accepted_context(run: dict[str, Any], children: Children,
                     settings: Settings) -> RunContext | None:
    """The spec the run's pods were made from (its ConfigMap), with the run's `suspend`:
    what a started run goes on with while an edit of it is unusable. None before it started."""
    config = children.get("ConfigMap", {}).get(naming.config_name(run["metadata"]["name"]))
    if config is None:
        return None
    try:
        document = yaml.safe_load(config["data"][CONFIG_FILE])
        spec = parse_dartrun(document, source="accepted spec").spec
    except (KeyError, TypeError, yaml.YAMLError, SpecError):
        return None
    suspend = (run.get("spec") or {}).get("suspend")
    if isinstance(suspend, bool):
        spec = spec.model_copy(update={"suspend": suspend})
    return RunContext(run=run, spec=spec, settings=settings)


def was_terminal(status: dict[str, Any]) -> bool:
    """A finished run stays finished; an InvalidSpec failure is not final (fix the spec)."""
    if status.get("phase") not in TERMINAL_PHASES:
        return False
    failed = next((c for c in status.get("conditions") or [] if c.get("type") == "Failed"), {})
    return not (status["phase"] == "Failed" and failed.get("reason") == "InvalidSpec")


def observe_units(children: Children, run_name: str, units: list[Unit]) -> dict[str, StageState]:
    found = children.get("Job", {})
    return {u.name: job_state(found.get(naming.child_name(run_name, u.name))) for u in units}


def observe_stages(units: list[Unit], states: dict[str, StageState]) -> dict[str, StageState]:
    """Each stage condition from the units that count towards it."""
    return {kind: combined([states[u.name] for u in units
                            if KIND_OF_UNIT_STAGE[u.stage] == kind]) for kind in STAGE_KINDS}


def observe_jobs(children: Children) -> dict[str, StageState]:
    """Without a usable spec there is no plan: the run's Jobs by the stage on their label."""
    found = list(children.get("Job", {}).values())
    return {kind: combined([job_state(job) for job in found if KIND_OF_UNIT_STAGE.get(
        job["metadata"].get("labels", {}).get(naming.STAGE_LABEL)) == kind])
        for kind in STAGE_KINDS}


def refused_stages(ctx: RunContext, children: Children, units: list[Unit]) -> tuple[str, ...]:
    """Started units whose Job was made from other inputs than the spec now asks for."""
    found = children.get("Job", {})
    refused = []
    for unit in units:
        job = found.get(naming.child_name(ctx.name, unit.name))
        stamped = (job or {}).get("metadata", {}).get("annotations", {}).get(
            naming.INPUTS_ANNOTATION)
        if stamped is not None and stamped != jobs.inputs_hash(ctx.spec, unit):
            refused.append(unit.name)
    return tuple(refused)


def template_hash(ctx: RunContext, unit: Unit | str) -> str:
    """Fingerprint of the pod template the spec wants for a unit's Job (stamped on it)."""
    return servers.fingerprint(jobs.job(ctx, unit)["spec"]["template"])


def restart_pending(ctx: RunContext, children: Children,
                    units: list[Unit], states: dict[str, StageState]) -> tuple[str, ...]:
    """Active units whose Job was made with another pod template than the spec asks for."""
    found = children.get("Job", {})
    pending = []
    for unit in units:
        job = found.get(naming.child_name(ctx.name, unit.name)) or {}
        stamped = (job.get("metadata", {}).get("annotations") or {}).get(
            naming.POD_HASH_ANNOTATION)
        if states[unit.name].active and stamped and stamped != template_hash(ctx, unit):
            pending.append(unit.name)
    return tuple(pending)


def stage_troubles(units: list[Unit], states: dict[str, StageState],
                   troubles: dict[str, Trouble]) -> dict[str, Trouble]:
    found: dict[str, Trouble] = {}
    for unit in units:
        kind = KIND_OF_UNIT_STAGE[unit.stage]
        if kind not in found and states[unit.name].active and unit.name in troubles:
            found[kind] = troubles[unit.name]
    return found


def launchable_units(units: list[Unit], states: dict[str, StageState]) -> tuple[Unit, ...]:
    done = {name for name, state in states.items() if state.state == "Succeeded"}
    return tuple(u for u in units if u.name not in done and set(u.needs) <= done)


def serving_unit(launchable: tuple[Unit, ...]) -> Unit | None:
    """Served units run one at a time, in plan order: the first launchable one has the
    servers (it keeps them until it is done, since it stays the first)."""
    return next((u for u in launchable if u.servers), None)


def preempted_unit(serving: Unit | None, states: dict[str, StageState],
                   old: dict[str, Any]) -> str | None:
    """The served unit whose Job is suspended again while the last status saw it running:
    the queue admitted it, then took its GPUs back. (A Job the queue has not admitted yet
    is suspended too, but its stage was never seen running.)"""
    if serving is None or states[serving.name].state != "Queued":
        return None
    kind = CONDITION_OF_STAGE[KIND_OF_UNIT_STAGE[serving.stage]]
    return serving.name if _condition(old, kind).get("reason") == "Running" else None


def _seconds_between(earlier: str, now: datetime) -> float:
    return (now - datetime.fromisoformat(earlier.replace("Z", "+00:00"))).total_seconds()


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), {})


def active_clock(old: dict[str, Any], suspended: bool, now: datetime) -> tuple[int, float]:
    """(seconds banked before the current spell, seconds run in all) for the deadline,
    which stops while the run is suspended (as a Job's does) and goes on when it resumes.
    The current spell began when the run started or last resumed: the later of startTime
    and the Suspended condition's last flip to False."""
    banked = int(old.get("activeSeconds") or 0)
    was_suspended = _condition(old, "Suspended").get("status") == "True"
    if old.get("startTime") is None or was_suspended:
        return banked, float(banked)  # the spell, if any, starts now
    marks = [old["startTime"], _condition(old, "Suspended").get("lastTransitionTime")]
    spell_start = max(m for m in marks if m)
    elapsed = banked + _seconds_between(spell_start, now)
    return (int(elapsed) if suspended else banked), elapsed


def deadline_left(ctx: RunContext, elapsed: float) -> int | None:
    """Seconds left of activeDeadlineSeconds; None without a deadline or while suspended."""
    limit = ctx.spec.active_deadline_seconds
    if limit is None or ctx.spec.suspend:
        return None
    return int(limit - elapsed)


def first_failure(ctx: RunContext, stages: dict[str, StageState], children: Children,
                  left: int | None) -> Failure | None:
    """The run's failure, most specific first: a stage's Job, a server, the deadline."""
    for stage, state in stages.items():
        if state.state == "Failed":
            return Failure(state.reason or "JobFailed", f"stage {stage}: {state.message}")
    deployments = children.get("Deployment", {})
    for server in naming.SERVERS:
        why = servers.load_failure(deployments.get(naming.child_name(ctx.name, server)))
        if why:
            return Failure("ModelLoadFailed", f"{server} server: {why}")
    if left is not None and left <= 0:
        limit = ctx.spec.active_deadline_seconds
        return Failure("DeadlineExceeded", f"the run exceeded activeDeadlineSeconds ({limit})")
    return None


def start_time_of(old_status: dict[str, Any], now: datetime, suspended: bool) -> str | None:
    """When the operator started the run (its first children): the deadline counts from
    here, because loading the servers' models already holds the GPUs. A run created
    suspended has not started."""
    if old_status.get("startTime") or suspended:
        return old_status.get("startTime")
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def servers_ready(ctx: RunContext, children: Children) -> bool:
    deployments = children.get("Deployment", {})
    return all(servers.is_available(deployments.get(naming.child_name(ctx.name, s)))
               for s in naming.SERVERS)


def assess(run: dict[str, Any], children: Children, settings: Settings,
           now: datetime) -> Assessment:
    """Observe, validate and decide: the run's situation at `now`."""
    old = run.get("status") or {}
    invalid_edit = None
    try:
        ctx = parse_context(run, settings)
    except SpecError as error:
        ctx = accepted_context(run, children, settings)
        if ctx is None:
            return Assessment(None, observe_jobs(children),
                              failure=Failure("InvalidSpec", str(error)), old_status=old)
        invalid_edit = str(error)
    start = start_time_of(old, now, ctx.spec.suspend)
    banked, elapsed = active_clock(old, ctx.spec.suspend, now)
    left = deadline_left(ctx, elapsed)
    units = jobs.units(ctx.spec)
    states = observe_units(children, ctx.name, units)
    stages = observe_stages(units, states)
    launchable = launchable_units(units, states)
    current = next((u for u in units if states[u.name].state != "Succeeded"), None)
    serving = serving_unit(launchable)
    troubles = pod_troubles(children.get("Pod", {}), {
        u.name: "learner" if u.resources == "learn" else u.resources for u in units})
    return Assessment(
        ctx=ctx,
        stages=stages,
        units=states,
        launchable=launchable,
        serving=serving,
        preempted=None if ctx.spec.suspend else preempted_unit(serving, states, old),
        current_unit=current.name if current else None,
        servers_ready=servers_ready(ctx, children),
        failure=first_failure(ctx, states, children, left),
        current=KIND_OF_UNIT_STAGE[current.stage] if current else None,
        refused=refused_stages(ctx, children, units),
        invalid_edit=invalid_edit,
        restart_pending=() if invalid_edit else restart_pending(ctx, children, units, states),
        suspended=ctx.spec.suspend,
        start_time=start,
        deadline_left=left,
        active_seconds=banked,
        troubles=troubles,
        stage_troubles=stage_troubles(units, states, troubles),
        terminal=was_terminal(old),
        old_status=old,
    )

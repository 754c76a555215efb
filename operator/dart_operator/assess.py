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

from dart.config.load import SpecError, parse_dartrun
from dart.config.spec import API_VERSION, KIND
from dart.plan import Unit
from dart_operator import jobs, naming, servers
from dart_operator.pods import RunContext, unknown_node_pools
from dart_operator.settings import Settings
from dart_operator.stages import KIND_OF_UNIT_STAGE, STAGE_KINDS, StageState, combined, job_state

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
    suspended: bool = False
    start_time: str | None = None
    deadline_left: int | None = None
    terminal: bool = False
    """The run finished earlier: nothing is started again, only the TTL applies."""
    old_status: dict[str, Any] = field(default_factory=dict)


def parse_context(run: dict[str, Any], settings: Settings) -> RunContext:
    """Validate the run's spec as every workload will, plus what only the operator knows."""
    meta = run["metadata"]
    document = {"apiVersion": API_VERSION, "kind": KIND,
                "metadata": {"name": meta["name"]}, "spec": run.get("spec") or {}}
    spec = parse_dartrun(document, source=f"dartrun {meta['name']}").spec
    if problems := unknown_node_pools(spec, settings):
        raise SpecError(f"dartrun {meta['name']}", problems)
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


def launchable_units(units: list[Unit], states: dict[str, StageState]) -> tuple[Unit, ...]:
    done = {name for name, state in states.items() if state.state == "Succeeded"}
    return tuple(u for u in units if u.name not in done and set(u.needs) <= done)


def serving_unit(launchable: tuple[Unit, ...]) -> Unit | None:
    """Served units run one at a time, in plan order: the first launchable one has the
    servers (it keeps them until it is done, since it stays the first)."""
    return next((u for u in launchable if u.servers), None)


def _seconds_between(earlier: str, now: datetime) -> float:
    return (now - datetime.fromisoformat(earlier.replace("Z", "+00:00"))).total_seconds()


def deadline_left(ctx: RunContext, start_time: str, now: datetime) -> int | None:
    limit = ctx.spec.active_deadline_seconds
    if limit is None:
        return None
    return int(limit - _seconds_between(start_time, now))


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


def start_time_of(old_status: dict[str, Any], now: datetime) -> str:
    """When the operator started the run (its first children): the deadline counts from
    here, because loading the servers' models already holds the GPUs."""
    return old_status.get("startTime") or now.strftime("%Y-%m-%dT%H:%M:%SZ")


def servers_ready(ctx: RunContext, children: Children) -> bool:
    deployments = children.get("Deployment", {})
    return all(servers.is_available(deployments.get(naming.child_name(ctx.name, s)))
               for s in naming.SERVERS)


def assess(run: dict[str, Any], children: Children, settings: Settings,
           now: datetime) -> Assessment:
    """Observe, validate and decide: the run's situation at `now`."""
    old = run.get("status") or {}
    try:
        ctx = parse_context(run, settings)
    except SpecError as error:
        return Assessment(None, observe_jobs(children),
                          failure=Failure("InvalidSpec", str(error)), old_status=old)
    start = start_time_of(old, now)
    left = deadline_left(ctx, start, now)
    units = jobs.units(ctx.spec)
    states = observe_units(children, ctx.name, units)
    stages = observe_stages(units, states)
    launchable = launchable_units(units, states)
    current = next((u for u in units if states[u.name].state != "Succeeded"), None)
    return Assessment(
        ctx=ctx,
        stages=stages,
        units=states,
        launchable=launchable,
        serving=serving_unit(launchable),
        current_unit=current.name if current else None,
        servers_ready=servers_ready(ctx, children),
        failure=first_failure(ctx, states, children, left),
        current=KIND_OF_UNIT_STAGE[current.stage] if current else None,
        refused=refused_stages(ctx, children, units),
        suspended=ctx.spec.suspend,
        start_time=start,
        deadline_left=left,
        terminal=was_terminal(old),
        old_status=old,
    )

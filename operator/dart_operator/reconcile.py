"""One reconcile of one run: observe, assess, converge, report. The only impure module
besides `kube` and `handlers`; every decision it acts on is made by pure functions."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from kubernetes_asyncio.client.exceptions import ApiException

from dart_operator import metrics, naming, progress
from dart_operator.assess import Assessment, Children, assess
from dart_operator.conditions import (
    MANAGED_FIELDS,
    Refusal,
    build_status,
    refusal_events,
    transitions,
)
from dart_operator.desired import Plan, plan
from dart_operator.jobs import PROGRESS_UNIT
from dart_operator.kube import CHILD_KINDS, Kube
from dart_operator.settings import Settings
from dart_operator.stages import CONDITION_OF_STAGE

Announce = Callable[[str, str, str], None]
"""Post an event about the run: (type, reason, message)."""

PROGRESS_TIMEOUT_SECONDS = 3.0
"""A slow learner sidecar delays one resync pass by at most this much."""

log = logging.getLogger(__name__)


async def observe(kube: Kube, run: dict[str, Any]) -> Children:
    """Every child of the run, one list call per kind; children it does not control are
    left out, so they are never changed (creating over them then reports the conflict)."""
    meta = run["metadata"]
    selector = f"{naming.RUN_LABEL}={meta['name']}"
    found = await asyncio.gather(*(kube.list(k, meta["namespace"], selector) for k in CHILD_KINDS))
    return {
        kind: objs if kind == "Pod" else
        {name: obj for name, obj in objs.items() if naming.is_owned_by(obj, run)}
        for kind, objs in zip(CHILD_KINDS, found, strict=True)
    }


def api_message(error: ApiException) -> str:
    """The API server's own sentence (a quota, a webhook's denial), not the HTTP envelope."""
    try:
        return json.loads(error.body)["message"]
    except (TypeError, ValueError, KeyError):
        return error.reason or f"HTTP {error.status}"


def refusal(verb: str, kind: str, name: str, error: ApiException) -> Refusal:
    return Refusal(verb, kind, name, error.status or 0, api_message(error))


async def create(kube: Kube, obj: dict[str, Any], announce: Announce) -> Refusal | None:
    """Create a child; one that exists but is not ours is reported, never overwritten; a
    create the API refuses (403 quota, 422 webhook) is returned for the status to show."""
    kind, name = obj["kind"], obj["metadata"]["name"]
    try:
        await kube.create(obj)
    except ApiException as error:
        if error.status != 409:
            return refusal("create", kind, name, error)
        announce("Warning", "ChildConflict",
                 f"{kind} {name} exists and is not owned by this DartRun; delete or rename it")
        return Refusal("create", kind, name, 409, "it exists and is not owned by this DartRun")
    metrics.CHILD_CHANGES.labels(action="create", kind=kind).inc()
    return None


async def update(kube: Kube, obj: dict[str, Any], live: dict[str, Any]) -> Refusal | None:
    """Replace a child; a stale resourceVersion (409) is left to the next reconcile."""
    try:
        await kube.replace(obj, live["metadata"]["resourceVersion"])
    except ApiException as error:
        if error.status == 409:
            return None
        return refusal("update", obj["kind"], obj["metadata"]["name"], error)
    metrics.CHILD_CHANGES.labels(action="update", kind=obj["kind"]).inc()
    return None


async def delete(kube: Kube, kind: str, namespace: str, name: str) -> Refusal | None:
    try:
        await kube.delete(kind, namespace, name)
    except ApiException as error:
        return refusal("delete", kind, name, error)
    metrics.CHILD_CHANGES.labels(action="delete", kind=kind).inc()
    return None


async def apply(kube: Kube, changes: Plan, children: Children,
                announce: Announce) -> list[Refusal]:
    """Carry out a plan in order: deletions, updates, creations. Every change is tried even
    when one is refused; the refusals are returned (conflicts included)."""
    results = []
    for kind, name in changes.delete:
        namespace = children[kind][name]["metadata"]["namespace"]
        results.append(await delete(kube, kind, namespace, name))
    for obj in changes.update:
        live = children[obj["kind"]][obj["metadata"]["name"]]
        results.append(await update(kube, obj, live))
    results += [await create(kube, obj, announce) for obj in changes.create]
    return [r for r in results if r is not None]


async def fetch_progress(url: str, timeout_seconds: float) -> dict[str, Any] | None:
    """The learner's progress, or None when it cannot be read right now."""
    try:
        async with asyncio.timeout(timeout_seconds):
            async with aiohttp.ClientSession() as session:
                async with session.get(url) as response:
                    if response.status != 200:
                        return None
                    raw = json.loads(await response.read())
    except (TimeoutError, aiohttp.ClientError, ValueError, OSError) as error:
        log.debug("learner progress not readable at %s: %s", url, error)
        return None
    return progress.stage_progress(raw) if isinstance(raw, dict) else None


async def learner_progress(a: Assessment, settings: Settings) -> dict[str, Any] | None:
    """Poll the learner's progress sidecar while the learner runs."""
    unit = PROGRESS_UNIT
    if a.ctx is None or a.current_unit != unit or a.units[unit].state != "Running":
        return None
    service = naming.child_name(a.ctx.name, unit)
    url = progress.progress_url(settings.progress_url, service, a.ctx.namespace)
    return await fetch_progress(url, timeout_seconds=PROGRESS_TIMEOUT_SECONDS)


def record_metrics(a: Assessment, run: dict[str, Any], status: dict[str, Any],
                   events: list[tuple[str, str, str]]) -> None:
    meta = run["metadata"]
    finished = {reason for _, reason, _ in events}
    for stage, kind in CONDITION_OF_STAGE.items():
        state = a.stages[stage]
        if kind in finished and state.start_time and state.completion_time:
            seconds = (_parse(state.completion_time) - _parse(state.start_time)).total_seconds()
            metrics.STAGE_SECONDS.labels(stage=stage).observe(seconds)
    percent = (status.get("progress") or {}).get("percent")
    if percent is not None and status.get("stage"):
        metrics.RUN_PROGRESS.labels(namespace=meta["namespace"], run=meta["name"],
                                    stage=status["stage"]).set(percent)


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return any(old.get(key) != new.get(key) for key in MANAGED_FIELDS)


async def reconcile(kube: Kube, run: dict[str, Any], settings: Settings, announce: Announce,
                    *, poll_progress: bool = False, now: datetime | None = None) -> dict:
    """Bring one run's children towards its spec and report where it stands; returns the
    status. Safe to call any number of times with any (fresh) view of the run."""
    now = now or datetime.now(UTC)
    children = await observe(kube, run)
    a = assess(run, children, settings, now)
    refusals = await apply(kube, plan(a, children, now), children, announce)
    refused = [r for r in refusals if r.code != 409]  # conflicts have their own event
    learner = await learner_progress(a, settings) if poll_progress else None
    status = build_status(a, children, run["metadata"].get("generation", 1), now, learner,
                          refused)
    old = run.get("status") or {}
    if changed(old, status):
        meta = run["metadata"]
        await kube.patch_status(meta["namespace"], meta["name"], status)
    events = transitions(old, status)
    for event in [*refusal_events(old, refused), *events]:
        announce(*event)
    record_metrics(a, run, status, events)
    result = ("refused" if a.refusing else "conflict" if refusals and not refused
              else "error" if refused else "success")
    metrics.RECONCILES.labels(result=result).inc()
    return status

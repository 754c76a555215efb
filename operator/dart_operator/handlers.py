"""kopf handlers: thin wiring from Kubernetes events to `reconcile`.

A run is reconciled when it changes, when one of its Jobs or Deployments changes, and every
`DART_RESYNC_SECONDS` (which also polls learner progress, deadlines and TTLs). Every
trigger does the same level-based reconcile of the freshest copy of the run, one at a time
per run. No finalizer: children go with the run through their owner references.

    kopf run -m dart_operator --all-namespaces      # or: dart-operator
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import os
from typing import Any

import kopf
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from dart_operator import kube as kube_api
from dart_operator import metrics, naming
from dart_operator.reconcile import Announce, reconcile
from dart_operator.settings import Settings, load_settings

GROUP, VERSION, PLURAL = "dart.ai", "v1alpha1", "dartruns"
CHILD_FILTER = {naming.RUN_LABEL: kopf.PRESENT}


def configure_kopf(kopf_settings: kopf.OperatorSettings, ours: Settings) -> None:
    """Peering when asked for; only the operator's own events are posted, not its logs."""
    kopf_settings.posting.level = logging.CRITICAL
    if ours.peering:
        kopf_settings.peering.name = ours.peering
        kopf_settings.peering.mandatory = True
        kopf_settings.peering.clusterwide = not ours.watch_namespaces
    else:
        kopf_settings.peering.standalone = True


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    ours = load_settings(os.environ)
    configure_kopf(settings, ours)
    memo.settings = ours
    memo.kube = kube_api.Kube(client.ApiClient(await kube_api.load_configuration()))
    memo.locks = collections.defaultdict(asyncio.Lock)
    memo.phases = metrics.PhaseBook()
    memo.closing = asyncio.Event()
    metrics.serve(ours.metrics_port)


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    """kopf may run this before it has stopped every daemon: tell them to stop first."""
    memo.closing.set()
    async with asyncio.timeout(5):
        for lock in list(memo.locks.values()):
            async with lock:
                pass  # a reconcile in flight finishes before the client goes
    await memo.kube.api.close()


@kopf.on.login()
async def login(**_: Any) -> kopf.ConnectionInfo:
    return kube_api.connection_info(await kube_api.load_configuration())


def announcer(run: dict[str, Any]) -> Announce:
    """Events go through kopf's poster (batched, retried) as Kubernetes Events on the run."""
    def announce(kind: str, reason: str, message: str) -> None:
        kopf.event(run, type=kind, reason=reason, message=message)
    return announce


async def fresh_run(memo: kopf.Memo, namespace: str, name: str) -> dict[str, Any] | None:
    """The run as it is now in the API (events may carry stale copies); None once gone."""
    try:
        return await memo.kube.get("DartRun", namespace, name)
    except ApiException as error:
        if error.status == 404:
            return None
        raise


async def reconcile_run(memo: kopf.Memo, namespace: str, name: str, *,
                        poll_progress: bool = False) -> None:
    """One reconcile of one run, never two of the same run at once."""
    async with memo.locks[(namespace, name)]:
        with metrics.RECONCILE_SECONDS.time():
            run = await fresh_run(memo, namespace, name)
            if run is None:
                memo.phases.record((namespace, name), None)
                return
            try:
                status = await reconcile(memo.kube, run, memo.settings, announcer(run),
                                         poll_progress=poll_progress)
            except Exception:
                metrics.RECONCILES.labels(result="error").inc()
                raise
    memo.phases.record((namespace, name), status.get("phase"))


@kopf.on.event(GROUP, VERSION, PLURAL)
async def run_changed(type: str, name: str, namespace: str, memo: kopf.Memo,
                      **_: Any) -> None:
    if type == "DELETED":
        memo.phases.record((namespace, name), None)
        memo.locks.pop((namespace, name), None)
        return
    await reconcile_run(memo, namespace, name)


@kopf.on.event("batch", "v1", "jobs", labels=CHILD_FILTER)
@kopf.on.event("apps", "v1", "deployments", labels=CHILD_FILTER)
async def child_changed(labels: dict[str, str], namespace: str, memo: kopf.Memo,
                        **_: Any) -> None:
    await reconcile_run(memo, namespace, labels[naming.RUN_LABEL])


@kopf.daemon(GROUP, VERSION, PLURAL, cancellation_timeout=5.0)
async def resync(name: str, namespace: str, memo: kopf.Memo, stopped: Any,
                 logger: logging.Logger, **_: Any) -> None:
    """The periodic, level-based pass: progress, deadlines, TTL, and recovery from errors
    that a one-off event handler does not retry."""
    while not stopped and not memo.closing.is_set():
        try:
            await reconcile_run(memo, namespace, name, poll_progress=True)
        except Exception as error:  # noqa: BLE001 - logged; the next pass retries
            logger.warning(f"reconcile of {namespace}/{name} failed, retrying later: {error}")
        await pause(memo.closing, memo.settings.resync_seconds)


async def pause(closing: asyncio.Event, seconds: float) -> None:
    """Sleep until the next pass, waking early when the operator shuts down. (kopf's own
    `stopped.wait()` leaves a helper task behind that fails the operator's shutdown.)"""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(closing.wait(), seconds)


def _no_finalizer_for_resync() -> None:
    """kopf guards every daemon with a finalizer so it can stop it before the object goes.
    The resync daemon holds no resource that needs stopping first, and a finalizer would
    make `kubectl delete dartrun` hang whenever the operator is down: drop it."""
    spawning = kopf.get_default_registry()._spawning
    spawning._handlers[:] = [
        dataclasses.replace(h, requires_finalizer=False) if h.fn is resync else h
        for h in spawning._handlers
    ]


_no_finalizer_for_resync()

"""Experiment tracking: a run's figures in TensorBoard, MLflow or W&B (`spec.tracking`).

    with tracking.tracked(spec, artifacts, "learn"):      # the unit runner, once per unit
        ...
        tracking.report(stats, step=4, prefix="learn/")   # a stage, where it writes them

Each unit (learn, sft-dart-0, evaluate, ...) is one tracker run, grouped under the DartRun's
name (DART_RUN_NAME, else the artifacts folder's). Stages only `report` the figures they
already write to disk: the learner's history.jsonl line, the SFT Trainer's logs, the final
accuracies. Without `tracking:`, or on a rank other than 0, reporting does nothing. A backend
imports its package only when chosen (`pip install 'dart-adapt[tracking]'`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from dart.config.installed import missing_packages
from dart.config.spec import DartRunSpec, Tracking
from dart.errors import UserError
from dart.tracking.base import NoTracker, Tracker, TrackerRun

__all__ = ["Tracker", "flatten", "open_tracker", "report", "tracked"]

log = logging.getLogger(__name__)
_current: Tracker = NoTracker()


def open_tracker(spec: DartRunSpec, artifacts: Path, unit: str) -> Tracker:
    """The tracker run of one unit; NoTracker without `tracking:` or off rank 0 (under
    torchrun every rank runs the unit, and one run per rank would split its figures)."""
    if spec.tracking is None or int(os.environ.get("RANK", "0")) != 0:
        return NoTracker()
    if missing := missing_packages(spec):
        raise UserError(missing[0])
    from dart.tracking.backends import BACKENDS

    where = TrackerRun(run=run_name(artifacts), unit=unit,
                       log_dir=log_dir(spec.tracking, artifacts), artifacts=Path(artifacts))
    return BACKENDS[spec.tracking.backend](spec.tracking, where)


def run_name(artifacts: Path) -> str:
    return os.environ.get("DART_RUN_NAME") or Path(artifacts).resolve().name


def log_dir(tracking: Tracking, artifacts: Path) -> Path:
    return Path(tracking.log_dir).expanduser() if tracking.log_dir else \
        Path(artifacts) / "tracking"


@contextmanager
def tracked(spec: DartRunSpec, artifacts: Path, unit: str) -> Iterator[Tracker]:
    """`report` goes to this unit's tracker run until the block ends, then it is closed."""
    global _current
    tracker = open_tracker(spec, artifacts, unit)
    previous, _current = _current, tracker
    try:
        yield tracker
    finally:
        _current = previous
        tracker.close()


def report(figures: Mapping, step: int | None = None, prefix: str = "") -> None:
    """Send the numbers in `figures` (nested: `components/alignment`) to the open tracker.
    A tracker that fails mid-run is switched off with one warning: it observes the run and
    must not end a learner hours in."""
    global _current
    metrics = flatten(figures, prefix)
    if not metrics or isinstance(_current, NoTracker):
        return
    try:
        _current.log(metrics, step)
    except Exception as error:  # noqa: BLE001 - each backend has its own errors
        log.warning("experiment tracking stopped: %s: %s", type(error).__name__, error)
        _current = NoTracker()


def flatten(figures: Mapping, prefix: str = "") -> dict[str, float]:
    """Numbers by slash-joined key; strings, lists and flags are left out."""
    flat: dict[str, float] = {}
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}/"))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat

"""The one interface every tracking backend implements, and where a tracker run belongs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrackerRun:
    """One unit's tracker run: `run` groups the units of a DartRun, `unit` names this one."""

    run: str
    unit: str
    log_dir: Path
    artifacts: Path


class Tracker(ABC):
    @abstractmethod
    def log(self, metrics: dict[str, float], step: int | None) -> None:
        """Record `metrics` at `step` (None: a figure of the whole unit)."""

    @abstractmethod
    def close(self) -> None:
        """Flush and finish the tracker run."""


class NoTracker(Tracker):
    """No `tracking:` in the spec (or not rank 0): figures go nowhere."""

    def log(self, metrics: dict[str, float], step: int | None) -> None:
        pass

    def close(self) -> None:
        pass

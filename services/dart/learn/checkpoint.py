"""Resumable learner checkpoints and weight publishing, both crash-safe.

A checkpoint is written into a hidden temporary folder, renamed into place, and only then
marked COMPLETE; a reader takes the newest folder with the marker, so a learner killed
mid-write resumes from the previous checkpoint. Published weights follow the same rule with a
STABLE marker (prime-rl's filesystem handshake) before the generator is asked to load them.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

COMPLETE = "COMPLETE"
STABLE = "STABLE"
KEEP_CHECKPOINTS = 2


@dataclass(frozen=True)
class LearnPaths:
    root: Path

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def weights(self) -> Path:
        return self.root / "weights"

    @property
    def progress(self) -> Path:
        return self.root / "progress.json"

    @property
    def history(self) -> Path:
        return self.root / "history.jsonl"

    @property
    def final(self) -> Path:
        """The trained mapper's weights, written last; its STABLE marker means learn is done."""
        return self.weights / "final"


def _staging(final: Path) -> Path:
    staging = final.parent / f".tmp-{final.name}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def save_checkpoint(paths: LearnPaths, engine, step: int) -> Path:
    """Model, optimizer (DeepSpeed), RNG and data position (the step: batches are a function
    of seed and step) in `checkpoints/step-NNNNNN`."""
    final = paths.checkpoints / f"step-{step:06d}"
    staging = _staging(final)
    engine.save_checkpoint(str(staging), tag="state")
    torch.save(_rng_state(), staging / "rng.pt")
    (staging / "trainer_state.json").write_text(json.dumps({"step": step}))
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    (final / COMPLETE).touch()
    _prune(paths.checkpoints)
    return final


def latest_checkpoint(paths: LearnPaths) -> Path | None:
    complete = sorted(p.parent for p in paths.checkpoints.glob(f"step-*/{COMPLETE}"))
    return complete[-1] if complete else None


def load_checkpoint(checkpoint: Path, engine) -> int:
    """Restore engine and RNG; return the number of steps already done."""
    engine.load_checkpoint(str(checkpoint), tag="state")
    _set_rng_state(torch.load(checkpoint / "rng.pt", weights_only=False))
    return json.loads((checkpoint / "trainer_state.json").read_text())["step"]


def publish(paths: LearnPaths, name: str, write) -> Path:
    """Write weights with `write(folder)` into `weights/<name>`, then mark them STABLE."""
    final = paths.weights / name
    staging = _staging(final)
    write(staging)
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    (final / STABLE).touch()
    return final


def _prune(folder: Path) -> None:
    complete = sorted(p.parent for p in folder.glob(f"step-*/{COMPLETE}"))
    for old in complete[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)


def _rng_state() -> dict:
    return {"python": random.getstate(), "numpy": np.random.get_state(),
            "torch": torch.get_rng_state()}


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])

"""Resumable learner checkpoints and weight publishing, both crash-safe.

A checkpoint is written into a hidden staging folder, marked done and renamed into place
(dart.artifacts.atomic_folder); a reader takes the newest folder with the marker, so a learner
killed mid-write resumes from the previous checkpoint. Published weights follow the same rule
(prime-rl's filesystem handshake) before the generator is asked to load them.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import torch

from dart.artifacts import MARKER, LearnPaths, atomic_folder, read_json

KEEP_CHECKPOINTS = 2


def save_checkpoint(paths: LearnPaths, engine, step: int) -> Path:
    """Model, optimizer (DeepSpeed), RNG and data position (the step: batches are a function
    of seed and step) in `checkpoints/step-NNNNNN`."""
    final = paths.checkpoint(step)
    with atomic_folder(final) as staging:
        engine.save_checkpoint(str(staging), tag="state")
        torch.save(_rng_state(), staging / "rng.pt")
        (staging / "trainer_state.json").write_text(json.dumps({"step": step}))
    _prune(paths.checkpoints)
    return final


def latest_checkpoint(paths: LearnPaths) -> Path | None:
    complete = sorted(p.parent for p in paths.checkpoints.glob(f"step-*/{MARKER}"))
    return complete[-1] if complete else None


def load_checkpoint(checkpoint: Path, engine) -> int:
    """Restore engine and RNG; return the number of steps already done."""
    engine.load_checkpoint(str(checkpoint), tag="state")
    _set_rng_state(torch.load(checkpoint / "rng.pt", weights_only=False))
    return read_json(checkpoint / "trainer_state.json")["step"]


def publish(paths: LearnPaths, name: str, write) -> Path:
    """Write weights with `write(folder)` into `weights/<name>`, marked done before the
    generator is asked to load them."""
    final = paths.weights / name
    with atomic_folder(final) as staging:
        write(staging)
    return final


def _prune(folder: Path) -> None:
    complete = sorted(p.parent for p in folder.glob(f"step-*/{MARKER}"))
    for old in complete[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)


def _rng_state() -> dict:
    return {"python": random.getstate(), "numpy": np.random.get_state(),
            "torch": torch.get_rng_state()}


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from dart.artifacts import MARKER, LearnPaths, atomic_folder, read_json
from dart.errors import UserError
from dart.learn import ranks

KEEP_CHECKPOINTS = 2


def save_checkpoint(paths: LearnPaths, engine, step: int) -> Path:
    """Model, optimizer (DeepSpeed), every rank's RNG and the data position (the step:
    batches are a function of seed and step) in `checkpoints/step-NNNNNN`.

    Collective: every rank calls it. DeepSpeed writes each rank's shard of the optimizer
    (and, under ZeRO-3, of the model) into one folder, so rank 0 alone prepares the staging
    folder, and marks and renames it only after a barrier says every rank's files are there.
    """
    final = paths.checkpoint(step)
    with _shared_folder(final) as staging:
        engine.save_checkpoint(str(staging), tag="state")
        torch.save(_rng_state(), staging / _rng_file(ranks.rank()))
        ranks.barrier()  # every rank's files are in the staging folder
        if ranks.is_main():
            (staging / "trainer_state.json").write_text(
                json.dumps({"step": step, "world_size": ranks.world_size()}))
    if ranks.is_main():
        _prune(paths.checkpoints)
    ranks.barrier()  # no rank reads checkpoints before rank 0 has renamed and pruned
    return final


@contextmanager
def _shared_folder(final: Path) -> Iterator[Path]:
    """dart.artifacts.atomic_folder, entered by every rank: rank 0 owns the staging folder
    (clears it, marks it done and renames it into place on the way out) and broadcasts its
    path, which every rank writes into."""
    if not ranks.is_main():
        yield ranks.broadcast_from_main(None)
        return
    with atomic_folder(final) as staging:
        yield ranks.broadcast_from_main(staging)
    return final


def latest_checkpoint(paths: LearnPaths) -> Path | None:
    complete = sorted(p.parent for p in paths.checkpoints.glob(f"step-*/{MARKER}"))
    return complete[-1] if complete else None


def agreed_latest_checkpoint(paths: LearnPaths) -> Path | None:
    """Rank 0's choice of the newest complete checkpoint, on every rank: ranks that looked
    on their own could disagree while a slow shared volume catches up."""
    return ranks.broadcast_from_main(latest_checkpoint(paths))


def load_checkpoint(checkpoint: Path, engine) -> int:
    """Restore engine and this rank's RNG on every rank; return the number of steps done."""
    state = read_json(checkpoint / "trainer_state.json")
    saved_by = state.get("world_size", 1)
    if saved_by != ranks.world_size() and engine.zero_optimization_stage() > 0:
        # ZeRO keeps one optimizer partition per rank: another rank count cannot read them.
        raise UserError(f"{checkpoint} was written by {saved_by} learner processes and ZeRO "
                        f"stage {engine.zero_optimization_stage()} cannot resume it on "
                        f"{ranks.world_size()}: run with {saved_by} processes, or delete "
                        f"{checkpoint.parent} to start over")
    engine.load_checkpoint(str(checkpoint), tag="state")
    rng = checkpoint / _rng_file(ranks.rank())
    if not rng.exists():  # written before ranks had their own RNG files
        rng = checkpoint / "rng.pt"
    _set_rng_state(torch.load(rng, weights_only=False))
    return state["step"]


def _rng_file(rank: int) -> str:
    return "rng.pt" if rank == 0 else f"rng-rank{rank}.pt"


def publish(paths: LearnPaths, name: str, write) -> Path:
    """Write weights with `write(folder)` into `weights/<name>`, marked done before the
    generator is asked to load them. Rank 0's job alone (dart.learn.loop calls it there)."""
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

"""Shared fixtures: an untrained tiny model per session, and the pre-trained pair, built once
per recipe and cached across sessions (pre-training takes minutes on 2 cores)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_target(tmp_path_factory):
    from dart.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "target", seed=0)


def tiny_cache_root() -> Path:
    """$DART_TEST_CACHE, or ~/.cache/dart/tests; a recipe change gets a new folder."""
    return Path(os.environ.get("DART_TEST_CACHE", Path.home() / ".cache/dart/tests"))


@pytest.fixture(scope="session")
def pretrained():
    from dart.models.pretrain import PretrainRecipe, pretrain_tiny_models

    recipe = PretrainRecipe()
    folder = tiny_cache_root() / f"tiny-models-{recipe.fingerprint()}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:  # parallel sessions build it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        return pretrain_tiny_models(folder, recipe, progress=print)

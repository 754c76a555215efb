"""Shared fixtures: an untrained tiny model per session, and the pre-trained pair, built once
per recipe and cached across sessions (pre-training takes minutes on 2 cores)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_target(tmp_path_factory):
    from dart.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "target", seed=0)


@pytest.fixture(scope="session")
def pretrained():
    from dart.models.pretrain import cached_tiny_models

    return cached_tiny_models(progress=print)

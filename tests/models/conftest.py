"""Shared fixtures: one freshly built (untrained) tiny model per test session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_target(tmp_path_factory):
    from dart.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "target", seed=0)

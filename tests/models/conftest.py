"""An untrained tiny model per session (the pre-trained pair is in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_target(tmp_path_factory):
    from dart.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "target", seed=0)

"""Shared test setup: offline hubs, bounded threads, repository paths."""

import os
import sys
from pathlib import Path

import pytest

# No hub is reachable here or in CI: fail fast instead of retrying the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# CI has 2 cores; more torch threads than cores only adds contention.
os.environ.setdefault("OMP_NUM_THREADS", "2")
# DeepSpeed compiles a C++ op on first use (~45 s): one cache per virtual environment, shared
# by every test and its subprocesses. A cache shared across environments is rebuilt whenever
# another environment used it last (its build command names that environment's torch).
os.environ.setdefault("TORCH_EXTENSIONS_DIR", os.path.join(sys.prefix, "torch-extensions"))

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def pretrained():
    """The pre-trained tiny target and mapper, built once per recipe and cached across
    sessions (pre-training takes minutes on 2 cores)."""
    from dart.models.pretrain import cached_tiny_models

    return cached_tiny_models(progress=print)

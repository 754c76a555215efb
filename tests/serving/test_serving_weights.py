"""LoadWeights: LoRA and full-checkpoint swaps, old requests on old weights, bad paths refused."""

from __future__ import annotations

import threading
import time

import pytest

from dart.serving.client import GeneratorClient
from dart.serving.errors import InferenceError

PROMPTS = ["Question:\n12 + 30\nSolution:\n", "Question:\n7 - 5\nSolution:\n"]


def greedy(client: GeneratorClient, **options):
    groups = client.generate(PROMPTS, temperature=0.0, max_tokens=16, **options)
    return [group[0].token_ids.tolist() for group in groups], groups[0][0].weights_version


@pytest.fixture
def swappable(server_factory, tiny_model):
    """A generator of its own: these tests change its weights."""
    server = server_factory("generator", tiny_model)
    with GeneratorClient(server.target, timeout_s=120) as client:
        yield server, client


def test_lora_swap_changes_outputs_and_version(swappable, lora_adapter):
    server, client = swappable
    before, version = greedy(client)
    loaded = client.load_weights(lora_adapter, version="step-1")
    after, new_version = greedy(client)
    assert (version, new_version, loaded.kind) == ("base", "step-1", "lora")
    assert after != before
    assert client.info().weights_version == "step-1"
    assert greedy(client, weights_version="step-1")[0] == after


def test_full_checkpoint_swap(swappable, other_checkpoint):
    server, client = swappable
    before, _ = greedy(client)
    assert client.load_weights(other_checkpoint, version="ckpt-2").kind == "full"
    after, version = greedy(client)
    assert version == "ckpt-2" and after != before


def test_requests_accepted_before_a_swap_finish_on_old_weights(
        swappable, lora_adapter, tiny_model):
    server, client = swappable
    finished = {}

    def long_generation():  # 32 rows: two forward batches, the swap lands between them
        finished["groups"] = client.generate(PROMPTS * 8, n=2, max_tokens=64, seed=3)

    worker = threading.Thread(target=long_generation)
    worker.start()
    wait_until(lambda: server.server.metrics.inflight._value.get() >= 1)
    client.load_weights(lora_adapter, version="step-2")
    worker.join(120)
    assert greedy(client)[1] == "step-2"
    in_flight = [c for group in finished["groups"] for c in group]
    assert {c.weights_version for c in in_flight} == {"base"}
    client.load_weights(tiny_model, version="base-again")
    replay = [c for group in client.generate(PROMPTS * 8, n=2, max_tokens=64, seed=3)
              for c in group]
    assert [c.token_ids.tolist() for c in in_flight] == [c.token_ids.tolist() for c in replay]


@pytest.mark.parametrize("make_path, code, needle", [
    (lambda tmp: tmp / "missing", "NOT_FOUND", "does not exist"),
    (lambda tmp: tmp, "FAILED_PRECONDITION", "neither adapter_config.json"),
    (lambda tmp: write(tmp / "file.txt", "x"), "FAILED_PRECONDITION", "is not a folder"),
    (lambda tmp: write(tmp / "config.json", "{not json").parent, "FAILED_PRECONDITION",
     "could not load full weights"),
    (lambda tmp: write(tmp / "adapter_config.json", "{}").parent, "FAILED_PRECONDITION",
     "could not load lora weights"),
])
def test_bad_weights_are_refused_and_old_weights_keep_serving(
        generator, tmp_path, make_path, code, needle):
    with GeneratorClient(generator.target, timeout_s=120) as client:
        before = greedy(client)
        with pytest.raises(InferenceError, match=needle) as caught:
            client.load_weights(make_path(tmp_path), version="broken")
        assert caught.value.code == code
        assert greedy(client) == before


def test_load_weights_needs_a_version(generator, lora_adapter):
    with GeneratorClient(generator.target) as client:
        with pytest.raises(InferenceError, match="non-empty version") as caught:
            client.load_weights(lora_adapter, version="")
    assert caught.value.code == "INVALID_ARGUMENT"


def write(path, text):
    path.write_text(text)
    return path


def wait_until(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)

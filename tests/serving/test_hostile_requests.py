"""Hostile requests against real servers on loopback (untrained tiny model): every field fuzzed,
oversized texts and messages refused before tokenization, health answering throughout, and
incomplete checkpoints refused with the old weights kept."""

from __future__ import annotations

import json
import shutil
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dart.config.limits import CHARS_PER_TOKEN_BOUND, MAX_REQUEST_BYTES
from dart.protos_gen import inference_pb2 as pb
from dart.protos_gen import inference_pb2_grpc as pb_grpc

TEST_MAX_INPUT_TOKENS = 256  # conftest.TEST_LIMITS; Info reports it (asserted below)

# A refused request gets one of these; INTERNAL (a bug) or UNKNOWN never.
REFUSALS = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED,
            grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.OUT_OF_RANGE,
            grpc.StatusCode.NOT_FOUND}
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["", " ", "\n\t", "Question:\n1 + 2\nSolution:\n", "\x00", "<|im_end|>" * 5, "9" * 300])


class Channel:
    """A raw channel: the fuzzer sends what the Python client would never build."""

    def __init__(self, target: str):
        self.channel = grpc.insecure_channel(target, options=[
            ("grpc.max_send_message_length", 2 * MAX_REQUEST_BYTES)])
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def serving(self, timeout_s: float = 1.0) -> bool:
        reply = self.health.Check(health_pb2.HealthCheckRequest(), timeout=timeout_s)
        return reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def gen_channel(generator):
    channel = Channel(generator.target)
    yield channel, pb_grpc.GeneratorStub(channel.channel)
    channel.channel.close()


@pytest.fixture(scope="module")
def score_channel(scorer):
    channel = Channel(scorer.target)
    yield channel, pb_grpc.ScorerStub(channel.channel)
    channel.channel.close()


def answered_or_refused(call, request, channel: Channel) -> grpc.StatusCode:
    """The call succeeds or is refused with a one-sentence status; the server stays healthy."""
    try:
        call(request, timeout=60)
        code = grpc.StatusCode.OK
    except grpc.RpcError as error:
        code = error.code()
        assert code in REFUSALS, (code, error.details())
        assert error.details() and "\n" not in error.details()
        assert "Traceback" not in error.details()
    assert channel.serving()
    return code


@FUZZ
@given(prompts=st.lists(TEXT, max_size=10), n=st.integers(0, 2**32 - 1),
       temperature=st.floats(width=32) | st.sampled_from([0.0, 1.0]),
       top_p=st.floats(width=32) | st.just(1.0), max_tokens=st.integers(0, 2**32 - 1) |
       st.integers(0, 8), seed=st.none() | st.integers(0, 2**64 - 1),
       weights_version=st.sampled_from(["", "base", "nope"]))
def test_fuzzed_generate_requests_are_answered_or_refused(gen_channel, prompts, n, temperature,
                                                          top_p, max_tokens, seed,
                                                          weights_version):
    channel, stub = gen_channel
    request = pb.GenerateRequest(prompts=prompts, n=n, temperature=temperature, top_p=top_p,
                                 max_tokens=max_tokens, seed=seed,
                                 weights_version=weights_version)
    answered_or_refused(stub.Generate, request, channel)


@FUZZ
@given(pairs=st.lists(st.tuples(TEXT, TEXT), max_size=10))
def test_fuzzed_score_requests_are_answered_or_refused(score_channel, pairs):
    channel, stub = score_channel
    request = pb.ScoreRequest(pairs=[pb.ScorePair(prompt=p, completion=c) for p, c in pairs])
    code = answered_or_refused(stub.Score, request, channel)
    if any(not c.strip() or not p.strip() for p, c in pairs) or not pairs:
        assert code == grpc.StatusCode.INVALID_ARGUMENT


@FUZZ
@given(path=TEXT | st.sampled_from(["/", "/dev/zero", "/proc/self", "/nonexistent"]),
       version=TEXT)
def test_fuzzed_load_weights_requests_keep_the_old_weights(gen_channel, path, version):
    channel, stub = gen_channel
    before = stub.Info(pb.InfoRequest(), timeout=10).weights_version
    code = answered_or_refused(stub.LoadWeights, pb.LoadWeightsRequest(path=path,
                                                                       version=version), channel)
    assert code != grpc.StatusCode.OK
    assert stub.Info(pb.InfoRequest(), timeout=10).weights_version == before


def test_a_megabyte_prompt_is_refused_before_tokenization(gen_channel):
    """8 prompts (the test servers' item limit) of 8 * 10^6 characters: 64 MB, under the
    receive limit, refused by the character bound, fast, and the server stays healthy."""
    channel, stub = gen_channel
    assert stub.Info(pb.InfoRequest(), timeout=10).limits.max_input_tokens == TEST_MAX_INPUT_TOKENS
    prompts = ["7" * 8_000_000] * 8
    started = time.perf_counter()
    with pytest.raises(grpc.RpcError) as caught:
        stub.Generate(pb.GenerateRequest(prompts=prompts, n=1, max_tokens=4), timeout=60)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    limit = TEST_MAX_INPUT_TOKENS * CHARS_PER_TOKEN_BOUND
    assert f"prompt 0 has 8,000,000 characters, over the limit of {limit:,}" in (
        caught.value.details())
    assert time.perf_counter() - started < 20
    assert channel.serving()


def test_a_message_over_the_request_limit_is_resource_exhausted(score_channel):
    channel, stub = score_channel
    pair = pb.ScorePair(prompt="x" * (MAX_REQUEST_BYTES // 2), completion="y" * 1000)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Score(pb.ScoreRequest(pairs=[pair, pair, pair]), timeout=60)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert channel.serving()


def test_health_answers_within_a_second_during_a_long_tokenization(score_channel):
    """Pairs just under the character bound keep the tokenizer busy on its own thread."""
    channel, stub = score_channel
    limit = TEST_MAX_INPUT_TOKENS * CHARS_PER_TOKEN_BOUND
    pairs = [pb.ScorePair(prompt="1 + 2 " * (limit // 6 - 1), completion="3")] * 8
    outcome = {}

    def heavy():
        try:
            stub.Score(pb.ScoreRequest(pairs=pairs), timeout=120)
            outcome["code"] = grpc.StatusCode.OK
        except grpc.RpcError as error:
            outcome["code"] = error.code()

    worker = threading.Thread(target=heavy)
    worker.start()
    latencies = []
    while worker.is_alive() and len(latencies) < 50:
        started = time.perf_counter()
        assert channel.serving(timeout_s=1.0)
        latencies.append(time.perf_counter() - started)
        time.sleep(0.02)
    worker.join(120)
    assert outcome["code"] == grpc.StatusCode.INVALID_ARGUMENT  # over the token limit
    assert max(latencies) < 1.0


@pytest.fixture
def incomplete_checkpoints(tiny_model, tmp_path):
    """A safetensors file without the model's tensors, and a config with more layers than
    stored: both load 'fine' in transformers (random weights, one warning)."""
    import torch
    from safetensors.torch import save_file

    empty = tmp_path / "no-tensors"
    shutil.copytree(tiny_model, empty)
    save_file({"unrelated": torch.zeros(2)}, empty / "model.safetensors")
    deeper = tmp_path / "more-layers"
    shutil.copytree(tiny_model, deeper)
    config = json.loads((deeper / "config.json").read_text())
    config["num_hidden_layers"] += 2
    (deeper / "config.json").write_text(json.dumps(config))
    return {"no-tensors": empty, "more-layers": deeper}


@pytest.mark.parametrize("kind", ["no-tensors", "more-layers"])
def test_an_incomplete_checkpoint_is_refused_and_the_old_weights_kept(
        kind, incomplete_checkpoints, server_factory, tiny_model):
    server = server_factory("generator", tiny_model)
    channel = Channel(server.target)
    stub = pb_grpc.GeneratorStub(channel.channel)
    request = pb.GenerateRequest(prompts=["Question:\n1 + 2\nSolution:\n"], n=1,
                                 temperature=0.0, max_tokens=8)
    before = stub.Generate(request, timeout=60)
    with pytest.raises(grpc.RpcError) as caught:
        stub.LoadWeights(pb.LoadWeightsRequest(path=str(incomplete_checkpoints[kind]),
                                               version="v-bad"), timeout=60)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "lacks" in caught.value.details() and "tensors" in caught.value.details()
    after = stub.Generate(request, timeout=60)
    assert after.weights_version == "base"
    assert after.results[0].completions[0].token_ids == before.results[0].completions[0].token_ids
    channel.channel.close()

"""The generator over real gRPC on loopback: seeded sampling, limits, and refused inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from dart.serving.client import GeneratorClient
from dart.serving.errors import InferenceError

PROMPTS = ["<|im_start|>user\nWhat is 12 + 30?<|im_end|>\n<|im_start|>assistant\n",
           "Question:\n7 - 5\nSolution:\n"]


@pytest.fixture(scope="module")
def client(generator):
    with GeneratorClient(generator.target, timeout_s=120) as client:
        yield client


def flat(groups):
    return [c for group in groups for c in group]


def test_fixed_seed_reproduces_samples(client):
    first = client.generate(PROMPTS, n=3, temperature=1.0, max_tokens=24, seed=123)
    again = client.generate(PROMPTS, n=3, temperature=1.0, max_tokens=24, seed=123)
    other = client.generate(PROMPTS, n=3, temperature=1.0, max_tokens=24, seed=124)
    assert [len(group) for group in first] == [3, 3]
    for a, b in zip(flat(first), flat(again), strict=True):
        assert a.token_ids.tolist() == b.token_ids.tolist() and a.text == b.text
        np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-5)
    assert [c.token_ids.tolist() for c in flat(first)] != [
        c.token_ids.tolist() for c in flat(other)]
    # n samples of one prompt differ from each other (GRPO needs the diversity).
    assert len({tuple(c.token_ids.tolist()) for c in first[0]}) == 3


def test_samples_carry_raw_logprobs_of_their_tokens(client, tiny_model):
    """The returned log-probs equal a fresh transformers forward over prompt + sample."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    sample = client.generate(PROMPTS[:1], temperature=0.8, top_p=0.9, max_tokens=16,
                             seed=5)[0][0]
    prompt_ids = tokenizer(PROMPTS[0], add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt_ids + sample.token_ids.tolist()])
    with torch.no_grad():
        logprobs = model(input_ids=ids).logits[0].log_softmax(-1)
    expected = logprobs[len(prompt_ids) - 1:-1].gather(-1, ids[0, len(prompt_ids):, None])[:, 0]
    np.testing.assert_allclose(sample.logprobs, expected.numpy(), atol=1e-3)
    assert sample.weights_version == "base"
    assert sample.prompt_token_ids.tolist() == prompt_ids


def test_max_tokens_and_finish_reasons(client):
    for c in flat(client.generate(PROMPTS, n=2, max_tokens=5, seed=1)):
        assert len(c.token_ids) == len(c.logprobs) <= 5
        assert c.finish_reason == ("length" if len(c.token_ids) == 5 else "stop")


def test_greedy_is_deterministic_without_seed(client):
    runs = [client.generate(PROMPTS, temperature=0.0, max_tokens=12) for _ in range(2)]
    assert [c.token_ids.tolist() for c in flat(runs[0])] == [
        c.token_ids.tolist() for c in flat(runs[1])]


def test_chunked_prompts_come_back_in_order(generator):
    prompts = [f"Question:\n{i} + {i}\nSolution:\n" for i in range(11)]  # 8 per request
    with GeneratorClient(generator.target, chunk_size=4) as client:
        groups = client.generate(prompts, n=2, temperature=0.0, max_tokens=6)
    with GeneratorClient(generator.target, chunk_size=8) as client:
        singles = [client.generate([p], temperature=0.0, max_tokens=6)[0][0] for p in prompts]
    assert [len(g) for g in groups] == [2] * 11
    assert [g[0].token_ids.tolist() for g in groups] == [s.token_ids.tolist() for s in singles]


@pytest.mark.parametrize("prompts, options, needle", [
    ([], {}, "no prompts"),
    (["fine", ""], {}, "prompt 1 is empty"),
    (["1 + 1 = 2 " * 100], {}, "over the limit of 256"),
    (["hi"], {"n": 5}, "n=5 is outside 1..4"),
    (["hi"], {"max_tokens": 65}, "max_tokens=65 is outside 1..64"),
    (["hi"], {"max_tokens": 0}, "max_tokens=0"),
    (["hi"], {"top_p": 1.5}, "top_p=1.5"),
    (["hi"], {"temperature": -0.5}, "temperature=-0.5"),
])
def test_bad_requests_are_invalid_argument_and_server_keeps_serving(
        generator, prompts, options, needle):
    with GeneratorClient(generator.target, chunk_size=8) as client:
        with pytest.raises(InferenceError, match=needle) as caught:
            client.generate(prompts, **({"max_tokens": 4} | options))
        assert caught.value.code == "INVALID_ARGUMENT"
        assert len(client.generate(["still there?"], max_tokens=2)[0]) == 1


def test_asking_for_other_weights_is_failed_precondition(client):
    with pytest.raises(InferenceError, match="'step-9' were asked for") as caught:
        client.generate(PROMPTS, max_tokens=2, weights_version="step-9")
    assert caught.value.code == "FAILED_PRECONDITION"


def test_deadline_exceeded_is_reported_and_server_keeps_serving(generator):
    with GeneratorClient(generator.target, chunk_size=8) as client:
        with pytest.raises(InferenceError, match="DEADLINE_EXCEEDED") as caught:
            client.generate(PROMPTS * 4, n=4, max_tokens=64, timeout_s=0.05)
        assert caught.value.code == "DEADLINE_EXCEEDED"
        assert len(client.generate(["still there?"], max_tokens=2)[0]) == 1

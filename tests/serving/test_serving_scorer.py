"""The scorer over real gRPC on loopback: exact log-probs, chunking, and refused inputs."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from dart.serving.client import ScorerClient
from dart.serving.errors import InferenceError

PAIRS = [
    ("What is 12 + 30?", "12 + 30 = 42.\nAnswer: 42"),
    ("Compute 7 - 5.", "7 - 5 = 2"),
    ("A longer question about 123 + 456 with more words in it?", "Carry the 1. 579"),
]


def reference_logprobs(model_dir, prompt: str, completion: str) -> np.ndarray:
    """Independent of dart.serving: the chat template, one unpadded forward, log_softmax."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    user = [{"role": "user", "content": prompt}]
    prefix = tokenizer.apply_chat_template(user, add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template(
        user + [{"role": "assistant", "content": completion}], tokenize=False)
    prefix_len = len(tokenizer(prefix, add_special_tokens=False)["input_ids"])
    ids = torch.tensor([tokenizer(full, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        logprobs = model(input_ids=ids).logits[0].log_softmax(-1)
    targets = ids[0, prefix_len:]
    return logprobs[prefix_len - 1:-1].gather(-1, targets[:, None])[:, 0].numpy()


@pytest.fixture(scope="module")
def client(scorer):
    with ScorerClient(scorer.target, timeout_s=60) as client:
        yield client


def test_scores_equal_in_process_transformers(client, tiny_model):
    results = client.score(PAIRS)
    assert len(results) == len(PAIRS)
    for (prompt, completion), result in zip(PAIRS, results, strict=True):
        expected = reference_logprobs(tiny_model, prompt, completion)
        np.testing.assert_allclose(result.logprobs, expected, atol=1e-4)
        assert result.count == len(expected) == len(result.token_ids)
        assert result.sum == pytest.approx(float(expected.sum()), abs=1e-3)
        assert result.mean == pytest.approx(result.sum / result.count)


def test_completion_tokens_end_with_end_of_turn(client, tiny_model):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    result = client.score(PAIRS[:1])[0]
    assert int(result.token_ids[-1]) == tokenizer.eos_token_id
    assert tokenizer.decode(result.token_ids[:-1]) == PAIRS[0][1]


def test_chunked_batch_equals_one_request(scorer):
    pairs = PAIRS * 4  # 12 pairs, over the server's 8 per request
    with ScorerClient(scorer.target, chunk_size=5) as chunked:
        many = chunked.score(pairs)
    with ScorerClient(scorer.target, chunk_size=8) as whole:
        few = whole.score(pairs[:8])
    assert len(many) == 12
    for a, b in zip(many[:8], few, strict=True):
        np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-5)


def test_info_reports_role_backend_and_limits(client, tiny_model, scorer):
    info = client.info()
    assert (info.role, info.model, info.weights_version) == ("scorer", str(tiny_model), "base")
    assert info.backend == scorer.server.backend.name
    assert (info.max_items_per_request, info.max_input_tokens) == (8, 256)


@pytest.mark.parametrize("pairs, needle", [
    ([], "no pairs"),
    ([("", "an answer")], "prompt of pair 0 is empty"),
    ([("a question", "  ")], "completion of pair 0 is empty"),
    ([("q", "1 + 1 = 2 " * 200)], "over the limit of 256"),
])
def test_bad_pairs_are_invalid_argument_and_server_keeps_serving(scorer, pairs, needle):
    with ScorerClient(scorer.target, chunk_size=8) as client:
        with pytest.raises(InferenceError, match=needle) as caught:
            client.score(pairs)
        assert caught.value.code == "INVALID_ARGUMENT"
        assert client.score(PAIRS[:1])[0].count > 0


def test_too_many_pairs_in_one_request_is_refused(scorer):
    from dart.protos_gen import inference_pb2 as pb
    from dart.protos_gen import inference_pb2_grpc as pb_grpc

    request = pb.ScoreRequest(pairs=[pb.ScorePair(prompt="q", completion="a")] * 9)
    with grpc.insecure_channel(scorer.target) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            pb_grpc.ScorerStub(channel).Score(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "over the limit of 8" in caught.value.details()

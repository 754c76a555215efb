"""Clients for the inference servers, as the learner and the synthesis job call them.

    with GeneratorClient("127.0.0.1:50051") as generator:
        groups = generator.generate(prompts, n=8, temperature=1.0, max_tokens=256, seed=0)
        generator.load_weights("/artifacts/mapper/step-100", version="step-100")
    with ScorerClient("127.0.0.1:50052") as scorer:
        scores = scorer.score([(question, rewrite), ...])   # one TokenScores per pair

Each call has a deadline (`timeout_s`, covering its retries); UNAVAILABLE (server starting,
restarting, draining) is retried with exponential backoff and jitter; any other status raises
`InferenceError` with the server's message. Batches larger than the server's
max_items_per_request are split into chunks sent in parallel, results back in order. Safe to
share between threads.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import grpc
import numpy as np

from dart.protos_gen import inference_pb2 as pb
from dart.protos_gen import inference_pb2_grpc as pb_grpc
from dart.serving.errors import InferenceError
from dart.serving.packing import unpack_floats, unpack_ids

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
FINISH_REASONS = {pb.FINISH_REASON_STOP: "stop", pb.FINISH_REASON_LENGTH: "length"}


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for UNAVAILABLE: initial, doubling, capped, with +-50% jitter."""

    attempts: int = 6
    initial_backoff_s: float = 0.25
    max_backoff_s: float = 5.0

    def backoff_s(self, attempt: int) -> float:
        base = min(self.max_backoff_s, self.initial_backoff_s * 2**attempt)
        return base * random.uniform(0.5, 1.5)


@dataclass(frozen=True)
class GeneratedCompletion:
    text: str
    token_ids: np.ndarray  # int32
    logprobs: np.ndarray  # float32, raw (temperature 1) log-prob of each sampled token
    finish_reason: str  # "stop" or "length"
    weights_version: str
    prompt_token_ids: np.ndarray  # int32, the prompt as the generator tokenized it


@dataclass(frozen=True)
class TokenScores:
    token_ids: np.ndarray  # int32, the completion in the scorer's tokenizer
    logprobs: np.ndarray  # float32, one per token
    sum: float
    mean: float
    count: int


@dataclass(frozen=True)
class LoadedWeights:
    version: str
    kind: str  # "lora" or "full"
    load_seconds: float


@dataclass(frozen=True)
class ServerInfo:
    role: str
    model: str
    backend: str
    weights_version: str
    max_items_per_request: int
    max_n: int
    max_tokens: int
    max_input_tokens: int
    max_batch_rows: int
    server_version: str
    engine_version: str


class _InferenceClient:
    _stub_class: Callable

    def __init__(self, target: str, *, timeout_s: float = 300.0,
                 retry: RetryPolicy = RetryPolicy(), chunk_size: int | None = None,
                 parallel_chunks: int = 4):
        self.target = target
        self.timeout_s = timeout_s
        self.retry = retry
        self._chunk_size = chunk_size
        self._channel = grpc.insecure_channel(target, options=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
        self._stub = self._stub_class(self._channel)
        self._pool = ThreadPoolExecutor(parallel_chunks, thread_name_prefix="dart-client")

    def info(self, *, timeout_s: float | None = None) -> ServerInfo:
        reply = self._call("Info", pb.InfoRequest(), timeout_s)
        limits = reply.limits
        return ServerInfo(
            role=reply.role, model=reply.model, backend=reply.backend,
            weights_version=reply.weights_version,
            max_items_per_request=limits.max_items_per_request, max_n=limits.max_n,
            max_tokens=limits.max_tokens, max_input_tokens=limits.max_input_tokens,
            max_batch_rows=limits.max_batch_rows, server_version=reply.server_version,
            engine_version=reply.engine_version)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Block until the server answers (a freshly started server is loading its model)."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout_s)
        except grpc.FutureTimeoutError as error:
            raise InferenceError("UNAVAILABLE", f"no server answered within {timeout_s} s",
                                 method="connect", target=self.target) from error

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @cached_property
    def chunk_size(self) -> int:
        return self._chunk_size or self.info().max_items_per_request

    def _call(self, method: str, request, timeout_s: float | None):
        """One RPC under one deadline, retrying UNAVAILABLE with backoff inside it."""
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        rpc = getattr(self._stub, method)
        for attempt in range(self.retry.attempts):
            try:
                return rpc(request, timeout=max(deadline - time.monotonic(), 0.001))
            except grpc.RpcError as error:
                pause = self.retry.backoff_s(attempt)
                retryable = error.code() == grpc.StatusCode.UNAVAILABLE
                if (not retryable or attempt + 1 == self.retry.attempts
                        or time.monotonic() + pause >= deadline):
                    raise self._error(method, error) from None
                time.sleep(pause)
        raise AssertionError("the loop above returns or raises")

    def _error(self, method: str, error: grpc.RpcError) -> InferenceError:
        return InferenceError(error.code().name, error.details() or "", method=method,
                              target=self.target)

    def _chunked(self, items: Sequence, send: Callable[[int, list], list]) -> list:
        """send(chunk_index, chunk) for each chunk, in parallel; results flattened in order."""
        size = self.chunk_size
        chunks = [list(items[i:i + size]) for i in range(0, len(items), size)] or [[]]
        if len(chunks) == 1:
            return send(0, chunks[0])
        results = self._pool.map(send, range(len(chunks)), chunks)
        return [item for chunk_result in results for item in chunk_result]


class GeneratorClient(_InferenceClient):
    _stub_class = pb_grpc.GeneratorStub

    def generate(self, prompts: Sequence[str], *, n: int = 1, temperature: float = 1.0,
                 top_p: float = 1.0, max_tokens: int = 256, seed: int | None = None,
                 weights_version: str = "", timeout_s: float | None = None
                 ) -> list[list[GeneratedCompletion]]:
        """n completions per prompt, in order. Prompts are raw text (format them with
        dart.prompts first). With a seed, chunk k is sent with seed + k: reproducible for the
        same prompts, seed and chunk size."""
        def send(index: int, chunk: list[str]) -> list[list[GeneratedCompletion]]:
            request = pb.GenerateRequest(
                prompts=chunk, n=n, temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                seed=None if seed is None else seed + index, weights_version=weights_version)
            return _completions(self._call("Generate", request, timeout_s))

        return self._chunked(prompts, send)

    def load_weights(self, path: str | Path, version: str, *, timeout_s: float | None = None
                     ) -> LoadedWeights:
        """Swap the server to a LoRA adapter or full checkpoint folder it can read."""
        reply = self._call("LoadWeights", pb.LoadWeightsRequest(path=str(path), version=version),
                           timeout_s)
        return LoadedWeights(reply.version, reply.kind, reply.load_seconds)


class ScorerClient(_InferenceClient):
    _stub_class = pb_grpc.ScorerStub

    def score(self, pairs: Sequence[tuple[str, str]], *, timeout_s: float | None = None
              ) -> list[TokenScores]:
        """Per-token log-probs of each (prompt, completion) under the target's chat template."""
        def send(index: int, chunk: list[tuple[str, str]]) -> list[TokenScores]:
            request = pb.ScoreRequest(pairs=[pb.ScorePair(prompt=p, completion=c)
                                             for p, c in chunk])
            return [_token_scores(r) for r in self._call("Score", request, timeout_s).results]

        return self._chunked(pairs, send)


def _completions(reply: pb.GenerateResponse) -> list[list[GeneratedCompletion]]:
    return [[GeneratedCompletion(c.text, unpack_ids(c.token_ids), unpack_floats(c.logprobs),
                                 FINISH_REASONS.get(c.finish_reason, "unspecified"),
                                 reply.weights_version, unpack_ids(result.prompt_token_ids))
             for c in result.completions] for result in reply.results]


def _token_scores(result: pb.TokenScores) -> TokenScores:
    return TokenScores(unpack_ids(result.token_ids), unpack_floats(result.logprobs), result.sum,
                       result.mean, result.count)

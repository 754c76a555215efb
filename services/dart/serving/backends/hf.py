"""Backend `hf`: transformers models behind a dynamic batcher, on CPU or one GPU.

The generator holds an immutable `WeightsSnapshot`; a request takes the snapshot current when
it arrives and all its rows run on it, so LoadWeights is one reference swap and requests
accepted earlier finish on the old weights.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoConfig, AutoTokenizer

from dart.serving.backends import hf_sampling
from dart.serving.backends.base import (
    BASE_VERSION,
    GeneratorBackend,
    ScorerBackend,
    load_failure,
    weights_kind,
)
from dart.serving.backends.hf_loading import apply_lora, load_causal_lm
from dart.serving.batching import DynamicBatcher
from dart.serving.requests import Sample, SampleRow, ScoreRow, ServingLimits


@dataclass(frozen=True, eq=False)
class WeightsSnapshot:
    model: Any
    version: str
    base_path: str  # the full weights a LoRA adapter applies on


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class _HFBackend:
    """What both roles share: tokenizer, device, and a batcher over the role's `_run_batch`."""

    name = "hf"

    def __init__(self, model_path: str, limits: ServingLimits, batch_hooks: dict):
        self.model_path = model_path
        self.limits = limits
        self.device = pick_device()
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.max_model_len = AutoConfig.from_pretrained(model_path).max_position_embeddings
        self.pad_id = _pad_id(self.tokenizer)
        self.batcher = DynamicBatcher(self._run_batch, max_rows=limits.max_batch_rows,
                                      max_wait_s=limits.max_wait_ms / 1000, **batch_hooks)

    @property
    def engine_version(self) -> str:
        return f"transformers {transformers.__version__}, torch {torch.__version__}"

    async def close(self) -> None:
        await self.batcher.close()


class HFGenerator(_HFBackend, GeneratorBackend):
    def __init__(self, model_path: str, limits: ServingLimits, batch_hooks: dict):
        super().__init__(model_path, limits, batch_hooks)
        self._snapshot = WeightsSnapshot(load_causal_lm(model_path, self.device), BASE_VERSION,
                                         model_path)
        self._eos_ids = _eos_ids(self.tokenizer, self._snapshot.model)
        self._load_lock = asyncio.Lock()

    @property
    def weights_version(self) -> str:
        return self._snapshot.version

    async def generate(self, rows: list[SampleRow]) -> tuple[list[Sample], str]:
        snapshot = self._snapshot
        return await self.batcher.submit([(snapshot, row) for row in rows]), snapshot.version

    async def load_weights(self, path: Path, version: str) -> str:
        kind = weights_kind(path)
        async with self._load_lock:
            base_path = str(path) if kind == "full" else self._snapshot.base_path
            try:
                model = await asyncio.to_thread(self._load_model, path, kind, base_path)
            except Exception as error:  # any loader failure: keep serving the old weights
                raise load_failure(path, kind, error) from error
            self._snapshot = WeightsSnapshot(model, version, base_path)
        return kind

    def _load_model(self, path: Path, kind: str, base_path: str):
        """A LoRA adapter applies on the current full weights (served model or last
        checkpoint), as in the vllm backend."""
        if kind == "full":
            return load_causal_lm(path, self.device)
        return apply_lora(load_causal_lm(base_path, self.device), path)

    def _run_batch(self, items: list[tuple[WeightsSnapshot, SampleRow]]) -> list[Sample]:
        """Rows queued before and after a swap may share a batch: one pass per snapshot."""
        samples: list[Sample] = []
        for snapshot, group in groupby(items, key=lambda item: item[0]):
            rows = [row for _, row in group]
            samples += hf_sampling.sample_rows(snapshot.model, rows, eos_ids=self._eos_ids,
                                               pad_id=self.pad_id)
        return samples


class HFScorer(_HFBackend, ScorerBackend):
    def __init__(self, model_path: str, limits: ServingLimits, batch_hooks: dict):
        super().__init__(model_path, limits, batch_hooks)
        self.model = load_causal_lm(model_path, self.device)

    async def score(self, rows: list[ScoreRow]) -> list[list[float]]:
        return await self.batcher.submit(rows)

    def _run_batch(self, rows: list[ScoreRow]) -> list[list[float]]:
        return hf_sampling.score_rows(self.model, rows, pad_id=self.pad_id)


def _pad_id(tokenizer) -> int:
    """Padding is masked out, so any id works; prefer the tokenizer's own."""
    candidates = (tokenizer.pad_token_id, tokenizer.eos_token_id)
    return next((c for c in candidates if c is not None), 0)


def _eos_ids(tokenizer, model) -> frozenset[int]:
    """The tokenizer's EOS plus the generation config's (chat models end turns with their own)."""
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = configured if isinstance(configured, list) else [configured]
    return frozenset(i for i in [tokenizer.eos_token_id, *ids] if i is not None)

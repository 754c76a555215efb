"""Token sampling and scoring with plain transformers forward passes.

One batch mixes rows from different requests, each with its own temperature, top-p, length
limit and seed, which `model.generate` cannot do: hence this small decoding loop. Every row
draws from its own seeded torch.Generator, so a seeded sample does not depend on its batch.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection

import torch

from dart.serving.requests import Sample, SampleRow, ScoreRow


@torch.inference_mode()
def sample_rows(model, rows: list[SampleRow], *, eos_ids: Collection[int], pad_id: int
                ) -> list[Sample]:
    """Decode every row until its end-of-sequence token or its max_tokens."""
    device = model.device
    input_ids, attention = _left_pad([r.prompt_ids for r in rows], pad_id, device)
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    sampler = _RowSampler(rows, device)
    out = model(input_ids=input_ids, attention_mask=attention, position_ids=positions,
                logits_to_keep=1)
    for _ in range(max(r.max_tokens for r in rows)):
        tokens, logprobs = sampler.pick(out.logits[:, -1, :].float())
        if sampler.record(tokens, logprobs, eos_ids):
            break
        attention = torch.cat([attention, attention.new_ones((len(rows), 1))], dim=1)
        positions = positions[:, -1:] + 1
        out = model(input_ids=tokens[:, None], attention_mask=attention, position_ids=positions,
                    **_kv_cache_argument(model, out))
    return sampler.samples()


def _kv_cache_argument(model, out) -> dict:
    """transformers 5.2x renamed `past_key_values` to `cache`; the vllm tier's venv pins an
    older release, so accept both."""
    if "cache" in inspect.signature(model.forward).parameters:
        return {"cache": out.cache}
    return {"past_key_values": out.past_key_values}


@torch.inference_mode()
def score_rows(model, rows: list[ScoreRow], *, pad_id: int) -> list[list[float]]:
    """log p(token | prefix) for each row's completion tokens, from one padded forward pass."""
    input_ids, attention = _right_pad([r.token_ids for r in rows], pad_id, model.device)
    logits = model(input_ids=input_ids, attention_mask=attention).logits
    scores = []
    for i, row in enumerate(rows):
        # Position t's logits predict token t + 1.
        predicting = logits[i, row.completion_start - 1: len(row.token_ids) - 1].float()
        targets = input_ids[i, row.completion_start: len(row.token_ids)]
        logprobs = predicting.log_softmax(-1).gather(-1, targets[:, None])[:, 0]
        scores.append(logprobs.tolist())
    return scores


class _RowSampler:
    """Per-row sampling state: parameters, generators, and what each row produced so far."""

    def __init__(self, rows: list[SampleRow], device: torch.device):
        self.rows = rows
        self.temperature = torch.tensor([r.temperature for r in rows], device=device)
        self.top_p = torch.tensor([r.top_p for r in rows], device=device)
        self.generators = [torch.Generator(device=device).manual_seed(r.seed) for r in rows]
        self.tokens: list[list[int]] = [[] for _ in rows]
        self.logprobs: list[list[float]] = [[] for _ in rows]
        self.finish: list[str | None] = [None] * len(rows)

    def pick(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Next token per row, and its log-prob under the raw (temperature 1) distribution."""
        greedy = self.temperature == 0
        scaled = logits / torch.where(greedy, 1.0, self.temperature)[:, None]
        uniforms = torch.cat([torch.rand(1, generator=g, device=logits.device)
                              for g in self.generators])
        tokens = torch.where(greedy, logits.argmax(-1), _nucleus_draw(scaled, self.top_p, uniforms))
        logprobs = logits.log_softmax(-1).gather(-1, tokens[:, None])[:, 0]
        return tokens, logprobs

    def record(self, tokens: torch.Tensor, logprobs: torch.Tensor, eos_ids: Collection[int]
               ) -> bool:
        """Append this step's tokens to unfinished rows; True when every row is finished."""
        for i, (token, logprob) in enumerate(zip(tokens.tolist(), logprobs.tolist(), strict=True)):
            if self.finish[i] is not None:
                continue
            if token in eos_ids:
                self.finish[i] = "stop"
                continue
            self.tokens[i].append(token)
            self.logprobs[i].append(logprob)
            if len(self.tokens[i]) >= self.rows[i].max_tokens:
                self.finish[i] = "length"
        return all(f is not None for f in self.finish)

    def samples(self) -> list[Sample]:
        return [Sample(t, lp, f or "length")
                for t, lp, f in zip(self.tokens, self.logprobs, self.finish, strict=True)]


def _nucleus_draw(scaled_logits: torch.Tensor, top_p: torch.Tensor, uniforms: torch.Tensor
                  ) -> torch.Tensor:
    """Inverse-CDF draw from the smallest top-probability set whose mass reaches top_p."""
    probs, order = scaled_logits.softmax(-1).sort(dim=-1, descending=True)
    mass_before = probs.cumsum(-1) - probs
    probs = torch.where(mass_before < top_p[:, None], probs, 0.0)
    cdf = probs.cumsum(-1)
    picks = torch.searchsorted(cdf, (uniforms * cdf[:, -1])[:, None], right=True)
    picks = picks.clamp(max=probs.shape[-1] - 1)
    return order.gather(-1, picks)[:, 0]


def _left_pad(sequences, pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompts end at the same column so every row's next token comes from the last position."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, seq in enumerate(sequences):
        ids[i, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
        mask[i, width - len(seq):] = 1
    return ids.to(device), mask.to(device)


def _right_pad(sequences, pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, seq in enumerate(sequences):
        ids[i, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[i, : len(seq)] = 1
    return ids.to(device), mask.to(device)

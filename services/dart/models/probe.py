"""Measure a causal LM on task rows: greedy accuracy and mean per-token log-likelihood.

These are the two figures that say whether a tiny target is fit for the demonstration: it
must solve its own skills, and it must find its own style far more likely than the expert's.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from dart.models.training import IGNORE, collate, encode_pair
from dart.prompts import mapper_prompt, target_prompt, target_prompt_and_completion


@torch.no_grad()
def complete(model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int = 160,
             batch_size: int = 64, sample: bool = False, temperature: float = 1.0) -> list[str]:
    """Continue every chat prompt (greedy, or sampled at `temperature`), up to end of turn."""
    tokenizer.padding_side = "left"
    completions = []
    for start in range(0, len(prompts), batch_size):
        chunk = list(prompts[start:start + batch_size])
        batch = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False)
        sampling = {"do_sample": True, "temperature": temperature, "top_k": 0} if sample else {
            "do_sample": False}
        out = model.generate(**batch, max_new_tokens=max_new_tokens, **sampling,
                             pad_token_id=tokenizer.pad_token_id)
        completions += tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:],
                                              skip_special_tokens=True)
    return completions


def greedy_solutions(model, tokenizer, questions: Sequence[str], **generation) -> list[str]:
    """The target's greedy answer to every question, as evaluation reads it."""
    return complete(model, tokenizer, [target_prompt(tokenizer, q) for q in questions],
                    **generation)


def greedy_rewrites(model, tokenizer, rows: Sequence[dict], **generation) -> list[str]:
    """The mapper's greedy rewrite of every row's (expert) solution."""
    prompts = [mapper_prompt(tokenizer, r["question"], r["solution"]) for r in rows]
    return complete(model, tokenizer, prompts, **generation)


def accuracy(model, tokenizer, rows: Sequence[dict], verifier, **generation) -> float:
    """Fraction of rows whose greedy solution the verifier accepts."""
    solutions = greedy_solutions(model, tokenizer, [r["question"] for r in rows], **generation)
    verdicts = verifier.score_many([(s, r["answer"]) for s, r in zip(solutions, rows, strict=True)])
    return sum(verdicts) / len(rows)


@torch.no_grad()
def mean_token_logprob(model, tokenizer, rows: Sequence[dict], *, batch_size: int = 32) -> float:
    """Mean over rows of the mean per-token log-prob of the row's solution (the assistant
    turn, end-of-turn included) given its question, in nats/token."""
    means = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        pairs = [target_prompt_and_completion(tokenizer, r["question"], r["solution"])
                 for r in chunk]
        batch = collate([encode_pair(tokenizer, p, c) for p, c in pairs],
                        tokenizer.pad_token_id)
        means += _per_row_mean_logprob(model, batch).tolist()
    return sum(means) / len(means)


def _per_row_mean_logprob(model, batch: dict) -> torch.Tensor:
    logits = model(input_ids=batch["input_ids"]).logits  # right-padded: no mask needed
    labels = batch["labels"][:, 1:]
    logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    mask = labels != IGNORE
    picked = logprobs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(1) / mask.sum(1)

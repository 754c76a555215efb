"""Demonstrations too long for the servers: dropped or truncated at load, by policy, counted.

A demonstration whose mapper prompt (instruction + question + expert solution) does not leave
room for `learn.maxNewTokens` in the mapper's context, or exceeds the servers' input limit,
would be refused by the generator at the step that samples it, and again on every resume.
So the learner and synthesis measure each one once, with the mapper's tokenizer, and apply
`dataset.tooLong`: `drop` (the default) skips it as a bad row; `truncate` cuts the solution's
end until the prompt fits (the answer may go with it: the reward then gates the rewrites).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dart.config.limits import MAX_INPUT_TOKENS

TOO_LONG = "longer than the mapper's prompt limit"


@dataclass(frozen=True)
class LengthBudget:
    """The most prompt tokens a demonstration may take, and how to count them."""

    max_prompt_tokens: int
    count_tokens: Callable[[str, str], int]  # (question, solution) -> mapper prompt tokens
    policy: str  # "drop" or "truncate"


def length_budget(spec, tokenizer, context: int | None) -> LengthBudget:
    """The budget of a run's mapper: its tokenizer (duck-typed, so the core imports no
    engine; dart.budget loads it), its context (None: unknown) less the rewrite's tokens."""
    from dart.prompts import mapper_prompt

    def count(question: str, solution: str) -> int:
        text = mapper_prompt(tokenizer, question, solution)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    limit = min(MAX_INPUT_TOKENS, (context or MAX_INPUT_TOKENS + 1) - spec.learn.max_new_tokens)
    return LengthBudget(max(limit, 1), count, spec.dataset.too_long)


def fit_rows(rows: list[dict], budget: LengthBudget) -> tuple[list[dict], int, int]:
    """(rows that fit, how many were dropped, how many truncated)."""
    kept, dropped, truncated = [], 0, 0
    for row in rows:
        if budget.count_tokens(row["question"], row["solution"]) <= budget.max_prompt_tokens:
            kept.append(row)
            continue
        shorter = _truncated(row, budget) if budget.policy == "truncate" else None
        if shorter is None:
            dropped += 1
        else:
            kept.append(shorter)
            truncated += 1
    return kept, dropped, truncated


def _truncated(row: dict, budget: LengthBudget) -> dict | None:
    """The row with the longest prefix of its solution that fits (binary search on
    characters), or None when not even the question fits."""
    solution = row["solution"]
    low, high = 0, len(solution)  # a prefix of `low` characters fits; `high` does not
    if budget.count_tokens(row["question"], solution[:1]) > budget.max_prompt_tokens:
        return None
    low = 1
    while high - low > 1:
        middle = (low + high) // 2
        fits = budget.count_tokens(row["question"], solution[:middle]) <= budget.max_prompt_tokens
        low, high = (middle, high) if fits else (low, middle)
    return row | {"solution": solution[:low].rstrip() or solution[:low]}

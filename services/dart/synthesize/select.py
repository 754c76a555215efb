"""Choosing what goes into the adapted dataset, one demonstration at a time.

Of k scored rewrites, keep the one with the highest reward among those that pass every gate
(answer preserved, no penalty); if none passes, keep the original demonstration or drop the
item, as the spec says. This is the SDFT / "Mind the Gap" rule: rewrite when it is safe,
fall back to the expert otherwise. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dart.rewards import RewardBreakdown
from dart.rewards.reward import PENALTY_NAMES


def passes_gates(reward: RewardBreakdown) -> bool:
    """Answer kept and no anti-cheating penalty, whatever the penalties' weights are."""
    return reward.answer_preserved and not any(getattr(reward, p) for p in PENALTY_NAMES)


@dataclass(frozen=True)
class Candidate:
    text: str
    reward: RewardBreakdown


def best_passing(candidates: Sequence[Candidate]) -> Candidate | None:
    passing = [c for c in candidates if passes_gates(c.reward)]
    return max(passing, key=lambda c: c.reward.total, default=None)


def adapted_row(item: dict, candidates: Sequence[Candidate], fallback: str,
                mapper_version: str, prompt_format: str) -> dict | None:
    """The output row with its provenance, or None when the item is dropped."""
    chosen = best_passing(candidates)
    if chosen is None and fallback == "drop":
        return None
    return _row(item, chosen, candidates, mapper_version, prompt_format)


def grape_row(item: dict, candidates: Sequence[Candidate], fallback: str,
              mapper_version: str, prompt_format: str) -> dict:
    """The GRAPE rule (the `grape` ablation): of the original and the rewrites that keep its
    answer, the one the target finds most likely per token. The alignment term is that
    likelihood's gain over the original, so the original wins unless a rewrite beats 0. It
    never drops an item (the original is always a candidate); `fallback` is not used."""
    keeping = [c for c in candidates if c.reward.answer_preserved and c.reward.alignment > 0]
    chosen = max(keeping, key=lambda c: c.reward.alignment, default=None)
    return _row(item, chosen, candidates, mapper_version, prompt_format)


SELECTION_RULES = {"gated": adapted_row, "grape": grape_row}


def _row(item: dict, chosen: Candidate | None, candidates: Sequence[Candidate],
         mapper_version: str, prompt_format: str) -> dict:
    outcome = "rewritten" if chosen is not None else "kept-original"
    return {
        "id": item["id"],
        "question": item["question"],
        "solution": chosen.text if chosen else item["solution"],
        "answer": item["answer"],
        "provenance": {
            "outcome": outcome,
            "original_solution": item["solution"],
            "chosen_reward": chosen.reward.as_dict() if chosen else None,
            "candidates": len(candidates),
            "passing_candidates": sum(passes_gates(c.reward) for c in candidates),
            "answer_preserving_candidates": sum(c.reward.answer_preserved for c in candidates),
            "mapper_version": mapper_version,
            "prompt_format": prompt_format,
        },
    }

"""The DART reward: alignment gain under the target minus anti-cheating penalties.

`score_rewrite` combines the components of `dart.rewards.components` as the DartRun's
`learn.reward` section says, and returns every component on its own so each can be logged.
Penalties are recorded as positive amounts that were subtracted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from dart.config.spec import Reward
from dart.rewards import components as c


class AnswerChecker(Protocol):
    """What the reward needs from a verifier (see dart.verify)."""

    def extract(self, text: str) -> str | None: ...

    def equivalent(self, predicted: str, gold: str) -> bool: ...

    def equivalent_many(self, pairs: Sequence[tuple[str, str]]) -> list[bool]: ...


@dataclass(frozen=True)
class AnswerCheck:
    """Outcome of comparing a rewrite's final answer with the gold answer."""

    found: bool
    """The rewrite states a parseable final answer."""
    matches: bool
    """That answer is equivalent to the gold answer."""


def check_answer(checker: AnswerChecker, rewrite: str, gold: str) -> AnswerCheck:
    predicted = checker.extract(rewrite)
    if predicted is None:
        return AnswerCheck(found=False, matches=False)
    return AnswerCheck(found=True, matches=checker.equivalent(predicted, gold))


def check_answers(
    checker: AnswerChecker, texts: Sequence[str], golds: Sequence[str]
) -> list[AnswerCheck]:
    """`check_answer` for many rewrites at once (math-verify runs them in worker processes)."""
    predicted = [checker.extract(t) for t in texts]
    found = [(p, g) for p, g in zip(predicted, golds, strict=True) if p is not None]
    verdicts = iter(checker.equivalent_many(found))
    return [AnswerCheck(found=p is not None, matches=p is not None and next(verdicts))
            for p in predicted]


@dataclass(frozen=True)
class ScoredRewrite:
    """A rewrite and the expert solution, both scored by the target given the question."""

    rewrite: str
    rewrite_logprobs: Sequence[float]
    expert: str
    expert_logprobs: Sequence[float]


PENALTY_NAMES = ("answer_changed", "missing_answer", "numbers_changed", "operations_changed",
                 "length", "repetition", "copy")


@dataclass(frozen=True)
class RewardBreakdown:
    """The reward and every term that went into it."""

    total: float
    alignment: float
    min_token: float
    answer_changed: float
    missing_answer: float
    numbers_changed: float
    operations_changed: float
    length: float
    repetition: float
    copy: float
    answer_preserved: bool
    length_ratio: float
    repeated_fraction: float
    numbers_kept: float
    operations_kept: float

    def as_dict(self) -> dict[str, float | bool]:
        return asdict(self)

    @property
    def penalised(self) -> bool:
        """Whether any anti-cheating penalty fired (and, with the gate, zeroed the gain)."""
        return any(getattr(self, name) for name in PENALTY_NAMES)


def score_rewrite(config: Reward, item: ScoredRewrite, answer: AnswerCheck) -> RewardBreakdown:
    """Reward for one rewrite; see the module docstring of dart.rewards.components."""
    low, high = config.clip.low, config.clip.high
    alignment = c.clip(c.alignment_gain(item.rewrite_logprobs, item.expert_logprobs), low, high)
    min_token = c.clip(c.min_token_gain(item.rewrite_logprobs, item.expert_logprobs), low, high)
    ratio = c.length_ratio(len(item.rewrite_logprobs), len(item.expert_logprobs))
    repeated = c.repeated_ngram_fraction(item.rewrite, config.penalties.repetition.ngram)
    kept = c.numbers_kept(item.rewrite, item.expert)
    operations = c.operations_kept(item.rewrite, item.expert)
    penalties = _penalties(config, item, answer, Measured(ratio, repeated, kept, operations))
    if config.penalties.gate_alignment and any(penalties.values()):
        alignment, min_token = low, low  # hard gate: likelihood cannot pay for a cheat
    total = config.alignment_weight * alignment + config.min_token_weight * min_token
    total -= sum(penalties.values())
    return RewardBreakdown(
        total=total, alignment=alignment, min_token=min_token, **penalties,
        answer_preserved=answer.matches, length_ratio=ratio, repeated_fraction=repeated,
        numbers_kept=kept, operations_kept=operations,
    )


@dataclass(frozen=True)
class Measured:
    """The text measures the penalties are decided on."""

    length_ratio: float
    repeated_fraction: float
    numbers_kept: float
    operations_kept: float


def _penalties(
    config: Reward, item: ScoredRewrite, answer: AnswerCheck, m: Measured
) -> dict[str, float]:
    p = config.penalties
    if not p.enabled:  # the no-penalty ablation: measured above, never subtracted
        return dict.fromkeys(PENALTY_NAMES, 0.0)
    band = p.length
    return {
        "answer_changed": p.answer_changed if answer.found and not answer.matches else 0.0,
        "missing_answer": p.missing_answer if not answer.found else 0.0,
        "numbers_changed": p.numbers.penalty if m.numbers_kept < p.numbers.min_kept else 0.0,
        "operations_changed": p.operations.penalty
        if m.operations_kept < p.operations.min_kept else 0.0,
        "length": band.penalty
        if c.outside_length_band(m.length_ratio, band.min_ratio, band.max_ratio) else 0.0,
        "repetition": p.repetition.penalty
        if m.repeated_fraction > p.repetition.max_repeated_fraction else 0.0,
        "copy": p.copy_expert.penalty
        if p.copy_expert.forbid and c.is_verbatim_copy(item.rewrite, item.expert) else 0.0,
    }

"""Reward many rewrites at once through a scorer (any object with `score(pairs)`).

Shared by the learner (rollouts) and synthesis (candidates), so both rate a rewrite the same
way. The scorer is a protocol, not a gRPC import: the core stays transport-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dart.config.spec import Reward
from dart.rewards.reward import (
    AnswerChecker,
    RewardBreakdown,
    ScoredRewrite,
    check_answers,
    score_rewrite,
)


class Scorer(Protocol):
    """Per-token target log-probs of (question, solution) pairs; see dart.serving.client."""

    def score(self, pairs: Sequence[tuple[str, str]]) -> list: ...


class ExpertScores:
    """Target log-probs of each expert solution; the target is frozen, so scored once."""

    def __init__(self, scorer: Scorer):
        self.scorer = scorer
        self._cache: dict[str, list[float]] = {}

    def get(self, items: Sequence[dict]) -> list[list[float]]:
        missing = [item for item in items if item["id"] not in self._cache]
        if missing:
            scores = self.scorer.score([(i["question"], i["solution"]) for i in missing])
            for item, score in zip(missing, scores, strict=True):
                self._cache[item["id"]] = [float(x) for x in score.logprobs]
        return [self._cache[item["id"]] for item in items]


def reward_rewrites(
    owners: Sequence[dict], texts: Sequence[str], *, scorer: Scorer, experts: ExpertScores,
    checker: AnswerChecker, config: Reward,
) -> list[RewardBreakdown]:
    """The reward of `texts[i]` as a rewrite of demonstration `owners[i]`."""
    rewrite_logprobs = _rewrite_logprobs(scorer, owners, texts)
    expert_logprobs = experts.get(owners)
    answers = check_answers(checker, texts, [o["answer"] for o in owners])
    return [
        score_rewrite(config, ScoredRewrite(text, logprobs, owner["solution"], expert), answer)
        for owner, text, logprobs, expert, answer
        in zip(owners, texts, rewrite_logprobs, expert_logprobs, answers, strict=True)
    ]


def _rewrite_logprobs(scorer: Scorer, owners: Sequence[dict], texts: Sequence[str]
                      ) -> list[list[float]]:
    """Target log-probs of each rewrite. A blank rewrite (an untrained mapper's stop token
    first) is a bad rewrite, not a scoring error: it is not sent (the scorer refuses empty
    completions) and gets no tokens, which the reward clips to the floor and gates."""
    wanted = [i for i, text in enumerate(texts) if text.strip()]
    scores = scorer.score([(owners[i]["question"], texts[i]) for i in wanted]) if wanted else []
    logprobs: list[list[float]] = [[] for _ in texts]
    for i, score in zip(wanted, scores, strict=True):
        logprobs[i] = [float(x) for x in score.logprobs]
    return logprobs

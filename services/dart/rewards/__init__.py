"""The DART reward (core: no torch, no gRPC)."""

from dart.rewards.reward import (
    AnswerCheck,
    AnswerChecker,
    RewardBreakdown,
    ScoredRewrite,
    check_answer,
    check_answers,
    score_rewrite,
)

__all__ = [
    "AnswerCheck", "AnswerChecker", "RewardBreakdown", "ScoredRewrite", "check_answer",
    "check_answers", "score_rewrite",
]

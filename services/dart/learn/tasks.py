"""What the learner samples and how it rewards a sample: the one seam between DART's mapper
and the direct-rl arm, which share the GRPO loop, rollouts and policy code.

    RewriteTask  the mapper rewrites an expert solution; reward = alignment gain under the
                 target minus anti-cheating penalties (dart.rewards)
    SolveTask    the target answers the question itself; reward 1 when the verifier accepts
                 the final answer, else 0 (the direct-rl baseline)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from dart.config.spec import Reward
from dart.prompts import mapper_prompt, target_prompt
from dart.rewards import RewardBreakdown
from dart.rewards.batch import ExpertScores, reward_rewrites


class RolloutTask(Protocol):
    def prompts(self, tokenizer, items: Sequence[dict]) -> list[str]: ...

    def rewards(self, items: Sequence[dict], texts: Sequence[str]) -> list[RewardBreakdown]:
        """The reward of texts[i], sampled for items[i]."""


@dataclass
class RewriteTask:
    """DART: rewrite the demonstration in the target's style without changing its answer."""

    scorer: object
    verifier: object
    reward: Reward

    def __post_init__(self):
        self.experts = ExpertScores(self.scorer)

    def prompts(self, tokenizer, items: Sequence[dict]) -> list[str]:
        return [mapper_prompt(tokenizer, i["question"], i["solution"]) for i in items]

    def rewards(self, items: Sequence[dict], texts: Sequence[str]) -> list[RewardBreakdown]:
        return reward_rewrites(items, texts, scorer=self.scorer, experts=self.experts,
                               checker=self.verifier, config=self.reward)


@dataclass
class SolveTask:
    """direct-rl: answer the question in the target's own chat; reward = correctness."""

    verifier: object

    def prompts(self, tokenizer, items: Sequence[dict]) -> list[str]:
        return [target_prompt(tokenizer, i["question"]) for i in items]

    def rewards(self, items: Sequence[dict], texts: Sequence[str]) -> list[RewardBreakdown]:
        correct = self.verifier.score_many(
            [(text, item["answer"]) for item, text in zip(items, texts, strict=True)])
        return [correctness_reward(c) for c in correct]


def correctness_reward(correct: bool) -> RewardBreakdown:
    """A breakdown with only the total and the answer check set, so the learner's logs and
    metrics read the same for both tasks (every alignment and penalty term is 0)."""
    zeros = {f.name: 0.0 for f in dataclasses.fields(RewardBreakdown)}
    return RewardBreakdown(**{**zeros, "total": float(correct), "answer_preserved": correct})

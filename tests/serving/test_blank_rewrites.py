"""A blank rewrite (an untrained mapper that stops at once) is a bad rewrite, not an error: the
learner's and synthesis's shared reward path gives it the clip floor, gated, and still scores
the other rewrites of the batch through the real scorer."""

from __future__ import annotations

import pytest

from dart.config.spec import Reward
from dart.rewards.batch import ExpertScores, reward_rewrites
from dart.serving.client import ScorerClient
from dart.verify import NumericVerifier

OWNER = {"id": "0", "question": "What is 2 + 3?", "solution": "2 + 3 = 5. Answer: 5",
         "answer": "5"}


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"], ids=["empty", "spaces", "whitespace"])
def test_blank_rewrites_get_the_floor_and_the_rest_are_scored(scorer, blank):
    config = Reward()
    with ScorerClient(scorer.target, timeout_s=60) as client:
        rewards = reward_rewrites(
            [OWNER] * 3, [blank, "2 + 3 = 5. Answer: 5", blank], scorer=client,
            experts=ExpertScores(client), checker=NumericVerifier(), config=config)
    floor = config.clip.low
    for reward in (rewards[0], rewards[2]):
        assert reward.alignment == floor and reward.min_token == floor
        assert reward.missing_answer == config.penalties.missing_answer
        assert reward.total <= floor - config.penalties.missing_answer
    honest = rewards[1]
    assert honest.answer_preserved and honest.missing_answer == 0
    assert honest.alignment == pytest.approx(0.0, abs=1e-4)  # the expert's own text: no gain
    assert honest.total > rewards[0].total


def test_a_batch_of_only_blank_rewrites_needs_no_scorer_call(scorer):
    with ScorerClient(scorer.target, timeout_s=60) as client:
        before = scorer.server.metrics.requests.labels(method="Score", code="OK")._value.get()
        experts = ExpertScores(client)
        experts.get([OWNER])  # the expert is scored once, up front
        rewards = reward_rewrites([OWNER] * 2, ["", " "], scorer=client, experts=experts,
                                  checker=NumericVerifier(), config=Reward())
        after = scorer.server.metrics.requests.labels(method="Score", code="OK")._value.get()
    assert after - before == 1  # the expert only
    assert all(r.alignment == Reward().clip.low for r in rewards)

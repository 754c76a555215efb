"""results.json pieces that need no model: seeds combined per set, direct-rl's reward."""

import pytest

from dart.evaluate.results import combine_seeds
from dart.learn.tasks import SolveTask


def test_seeds_combine_into_mean_sample_std_and_the_per_seed_list():
    seeds = [{"ood": {"accuracy": 0.5, "correct": 3, "n": 6}},
             {"ood": {"accuracy": 1 / 6, "correct": 1, "n": 6}}]
    ood = combine_seeds(seeds)["ood"]
    assert ood["seeds"] == [0.5, 1 / 6]
    assert ood["accuracy"] == pytest.approx(1 / 3) == ood["correct"] / ood["n"]
    assert ood["std"] == pytest.approx((1 / 3) / 2 ** 0.5)
    assert combine_seeds(seeds[:1])["ood"]["std"] == 0.0


class Verifier:
    def score_many(self, pairs):
        return [prediction.endswith(gold) for prediction, gold in pairs]


def test_direct_rl_rewards_a_correct_final_answer_with_1_and_asks_in_the_target_chat():
    task = SolveTask(Verifier())
    items = [{"question": "2+2?", "answer": "4"}] * 2
    rewards = task.rewards(items, ["so 4", "so 5"])
    assert [r.total for r in rewards] == [1.0, 0.0]
    assert [r.answer_preserved for r in rewards] == [True, False]
    assert rewards[0].alignment == 0.0

    class Tokenizer:
        def apply_chat_template(self, messages, **kwargs):
            return "|".join(m["content"] for m in messages) + "|assistant:"

    assert task.prompts(Tokenizer(), items[:1]) == ["2+2?|assistant:"]

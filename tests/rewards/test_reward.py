"""Each reward component on hand-made cases, and every cheat scoring below an honest rewrite."""

import re

import pytest

from dart.config.spec import Reward
from dart.rewards import ScoredRewrite, check_answer, score_rewrite
from dart.rewards import components as c


class LastAnswerLine:
    """A minimal checker: the number on the last `Answer:` line."""

    def extract(self, text):
        found = re.findall(r"Answer:\s*(-?\d+)", text)
        return found[-1] if found else None

    def equivalent(self, predicted, gold):
        return int(predicted) == int(gold)

    def equivalent_many(self, pairs):
        return [self.equivalent(p, g) for p, g in pairs]


CHECKER = LastAnswerLine()
GOLD = "22"
EXPERT = (
    "We are asked to subtract 25 from 47. Looking at the ones column, seven minus five "
    "leaves two. Looking at the tens column, four minus two leaves two. Putting the columns "
    "together gives twenty-two. Therefore, the final answer is as follows. Answer: 22"
)
EXPERT_LOGPROBS = [-2.0] * 40  # a foreign style: unlikely under the target
HONEST = "47-25\n7-5=2\n4-2=2\nAnswer: 22"
HONEST_LOGPROBS = [-0.1] * 16


DEFAULT = Reward()


def reward(text, logprobs, config=DEFAULT):
    item = ScoredRewrite(text, logprobs, EXPERT, EXPERT_LOGPROBS)
    return score_rewrite(config, item, check_answer(CHECKER, text, GOLD))


def test_alignment_gain_is_the_difference_of_mean_token_logprobs():
    assert c.alignment_gain([-1.0, -3.0], [-4.0, -4.0, -4.0]) == pytest.approx(2.0)
    assert c.alignment_gain([], [-1.0]) == float("-inf")
    with pytest.raises(ValueError):
        c.alignment_gain([-1.0], [])


def test_min_token_gain_sees_the_one_bad_token():
    assert c.min_token_gain([-0.1, -9.0], [-2.0, -2.0]) == pytest.approx(-7.0)


def test_repeated_ngram_fraction():
    assert c.repeated_ngram_fraction("a b c d e f", 2) == 0.0
    assert c.repeated_ngram_fraction("a b a b a b a b", 2) == pytest.approx(5 / 7)
    assert c.repeated_ngram_fraction("short", 4) == 0.0


def test_length_band_and_copy():
    assert c.outside_length_band(c.length_ratio(5, 100), 0.3, 2.0)
    assert not c.outside_length_band(c.length_ratio(50, 100), 0.3, 2.0)
    assert c.outside_length_band(c.length_ratio(300, 100), 0.3, 2.0)
    assert c.is_verbatim_copy("a  b\nc", "a b c")
    assert not c.is_verbatim_copy("a b", "a b c")


def test_honest_native_rewrite_gets_the_alignment_gain_and_no_penalty():
    honest = reward(HONEST, HONEST_LOGPROBS)
    assert honest.alignment == pytest.approx(1.9)
    assert honest.answer_preserved
    assert honest.total == pytest.approx(1.9)
    assert not any([honest.answer_changed, honest.missing_answer, honest.length,
                    honest.repetition, honest.copy])


CHEATS = {
    # Likelier per token than the honest rewrite, but the reasoning is gone.
    "drops the reasoning": ("Answer: 22", [-0.01] * 3, "length"),
    # Likely filler appended to an honest solution.
    "pads with filler": (HONEST + " ok" * 40, [-0.01] * 56, "repetition"),
    # Fluent, in the target's style, with another answer.
    "changes the answer": ("47-25\n7-5=2\n4-2=3\nAnswer: 32", [-0.1] * 16, "answer_changed"),
    # The honest solution looped.
    "repeats itself": ("\n".join([HONEST] * 4), [-0.05] * 64, "repetition"),
    # No final answer at all.
    "omits the answer": ("47-25\n7-5=2\n4-2=2", [-0.1] * 12, "missing_answer"),
}


@pytest.mark.parametrize("name", CHEATS)
def test_every_cheat_scores_below_the_honest_rewrite(name):
    text, logprobs, penalty = CHEATS[name]
    cheat = reward(text, logprobs)
    assert getattr(cheat, penalty) > 0, f"{name}: {penalty} not applied"
    assert cheat.total < reward(HONEST, HONEST_LOGPROBS).total


def test_numbers_kept_is_the_share_of_the_rewrites_numbers_restated_in_order():
    expert = "In the ones place, 3 minus 2 gives 1. In the tens place, 5 minus 2 gives 3. 31"
    assert c.numbers_kept("3-2=1\n5-2=3\nAnswer: 31", expert) == 1.0
    assert c.numbers_kept("3+2=5\n5+2=7\nAnswer: 31", expert) == pytest.approx(5 / 7)
    assert c.numbers_kept("5-2=3\n3-2=1\nAnswer: 31", expert) < 1.0  # order matters
    assert c.numbers_kept("Answer: thirty-one", expert) == 1.0  # dropping is the length check's
    # A fixed-width result line restates the expert's number; a different number does not.
    assert c.numbers_kept("5-2=3\n=031", expert) == c.numbers_kept("5-2=3\n=31", expert) == 1.0
    assert c.numbers_kept("=0.5\nAnswer: 310", expert) == 0.0


def test_invented_working_with_the_gold_answer_copied_is_caught_when_numbers_are_checked():
    expert = ("We need to compute 47 - 25. In the ones place, 7 minus 5 gives digit 2. In the tens "
              "place, 4 minus 2 gives digit 2. So 47 - 25 = 22. Answer: 22")
    checked = Reward.model_validate({"penalties": {"numbers": {"minKept": 0.9}}})
    honest_text = "47-25\n7-5=2\n4-2=2\nAnswer: 22"
    cheat_text = "47+25\n7+5=2 c1\n4+2+1=7\nAnswer: 22"  # addition, then the gold answer

    def score(text, config):
        item = ScoredRewrite(text, [-0.1] * 16, expert, EXPERT_LOGPROBS)
        return score_rewrite(config, item, check_answer(CHECKER, text, GOLD))

    assert score(cheat_text, DEFAULT).total == score(honest_text, DEFAULT).total  # the hole
    cheat, honest = score(cheat_text, checked), score(honest_text, checked)
    assert cheat.numbers_changed > 0 and honest.numbers_changed == 0
    assert cheat.total < honest.total and cheat.numbers_kept < 0.9


def test_without_penalties_cheats_win_which_is_why_they_exist():
    unpenalised = Reward.model_validate({"penalties": {"enabled": False}})
    text, logprobs, _ = CHEATS["drops the reasoning"]
    assert reward(text, logprobs, unpenalised).total > reward(HONEST, HONEST_LOGPROBS).total


def test_verbatim_copy_is_penalised_only_when_forbidden():
    allowed = reward(EXPERT, EXPERT_LOGPROBS)
    assert allowed.copy == 0 and allowed.alignment == 0
    forbidding = Reward.model_validate({"penalties": {"copyExpert": {"forbid": True}}})
    assert reward(EXPERT, EXPERT_LOGPROBS, forbidding).copy == 0.5


def test_alignment_is_clipped():
    config = Reward.model_validate({"clip": {"low": -1, "high": 1}})
    assert reward(HONEST, [-0.0] * 16, config).alignment == 1.0
    assert reward(HONEST, [-30.0] * 16, config).alignment == -1.0


def test_gate_off_keeps_alignment_of_a_penalised_rewrite():
    config = Reward.model_validate({"penalties": {"gateAlignment": False}})
    text, logprobs, _ = CHEATS["changes the answer"]
    gated, ungated = reward(text, logprobs), reward(text, logprobs, config)
    assert ungated.alignment == pytest.approx(1.9)
    assert gated.alignment == Reward().clip.low
    assert ungated.total == pytest.approx(1.9 - 2.0)


def test_the_same_numbers_under_another_operator_are_caught_when_operations_are_checked():
    """What GRPO found against a target that only ever added (the quickstart, 2026-12-02):
    a subtraction's digits under `+`, the answer and every number kept."""
    expert = ("We need to compute 756 - 520. In the ones place, 6 minus 0 minus the borrow 0 "
              "gives digit 6, and we borrow 0. So 756 - 520 = 236. \\boxed{236}")
    honest_text = "756-520\n6-0-0=6 c0\n=236\nAnswer: 236"
    cheat_text = "756-520\n6-0+0=6 c0\n=236\nAnswer: 236"
    checked = Reward.model_validate({"penalties": {"numbers": {"minKept": 0.9},
                                                   "operations": {"minKept": 1.0}}})
    assert c.operations_in(expert) == ["-", "-", "-", "-"]  # words and signs alike
    assert c.operations_kept("756 minus 520\n6 minus 0 minus 0=6", expert) == 1.0
    assert c.operations_kept(cheat_text, expert) == pytest.approx(2 / 3)
    assert c.operations_kept("working left-to-right: 3 \u00d7 4", expert) == 0.0  # no hyphens

    def score(text, config):
        item = ScoredRewrite(text, [-0.1] * 16, expert, EXPERT_LOGPROBS)
        return score_rewrite(config, item, check_answer(CHECKER, text, "236"))

    assert score(cheat_text, DEFAULT).total == score(honest_text, DEFAULT).total  # the hole
    cheat, honest = score(cheat_text, checked), score(honest_text, checked)
    assert cheat.numbers_changed == 0 and cheat.operations_changed > 0
    assert honest.operations_changed == 0 and cheat.total < honest.total


def test_the_passing_alignment_leaves_out_every_rewrite_a_penalty_fired_on():
    from dart.learn.loop import passing_alignment

    honest = reward(HONEST, HONEST_LOGPROBS)
    cheats = [reward(text, logprobs) for text, logprobs, _ in CHEATS.values()]
    assert not honest.penalised and all(cheat.penalised for cheat in cheats)
    assert passing_alignment([honest, *cheats, honest]) == pytest.approx(honest.alignment)
    assert passing_alignment(cheats) is None

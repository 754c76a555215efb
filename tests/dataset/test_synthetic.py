"""The synthetic task: deterministic, disjoint splits, correct working in every style."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from dart.data.synthetic import EVAL_SPLITS, SPLIT_SKILLS, STYLES, generate_split
from dart.data.synthetic.problems import (
    SKILLS,
    Problem,
    longest_borrow_run,
    sample_problem,
    work_step,
)
from dart.verify import NumericVerifier


def test_same_seed_same_rows_other_seed_other_rows():
    first = generate_split("train", seed=3, size=50, replay_fraction=0.2)
    assert first == generate_split("train", seed=3, size=50, replay_fraction=0.2)
    assert first != generate_split("train", seed=4, size=50, replay_fraction=0.2)


def test_a_larger_split_extends_a_smaller_one():
    assert generate_split("ood", seed=0, size=80)[:30] == generate_split("ood", seed=0, size=30)


@pytest.mark.parametrize("split", sorted(SPLIT_SKILLS))
def test_splits_draw_their_skills(split):
    rows = generate_split(split, seed=0, size=200)
    assert {row["skill"] for row in rows} == set(SPLIT_SKILLS[split])


def test_replay_mixes_old_skills_into_training():
    skills = Counter(r["skill"] for r in generate_split("train", seed=0, size=1000,
                                                        replay_fraction=0.25))
    replayed = skills["add"] / 1000
    assert 0.2 < replayed < 0.3


def test_evaluation_problems_never_appear_in_training_data():
    seen = {r["question"] for split in ("pretrain", "train")
            for r in generate_split(split, seed=0, size=3000, replay_fraction=0.3)}
    for split in EVAL_SPLITS:
        assert not seen & {r["question"] for r in generate_split(split, seed=0, size=500)}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_states_the_right_answer(style):
    verifier = NumericVerifier()
    for split in SPLIT_SKILLS:
        for row in generate_split(split, seed=1, size=100, style=style):
            assert row["answer"] == str(eval(row["question"].removeprefix("Compute ")[:-1]))
            assert verifier.is_correct(row["solution"], row["answer"]), row["solution"]


def test_styles_share_problems_and_differ_in_surface():
    by_style = {s: generate_split("train", seed=0, size=20, style=s) for s in STYLES}
    questions = {s: [r["question"] for r in rows] for s, rows in by_style.items()}
    assert questions["native"] == questions["expert"] == questions["expert-short"]
    native, expert = by_style["native"][0]["solution"], by_style["expert"][0]["solution"]
    assert "Answer:" in native and "\\boxed" in expert and native != expert
    short = by_style["expert-short"][0]["solution"]
    assert 0.6 < len(short) / len(native) < 1.6 < len(expert) / len(native)


def test_borrow_runs_separate_in_domain_from_ood():
    assert longest_borrow_run(Problem((403, 158), ("-",))) == 2
    assert longest_borrow_run(Problem((323, 242), ("-",))) == 1
    assert longest_borrow_run(Problem((999, 1), ("+",))) == 3
    runs = {split: {longest_borrow_run(_problem(r)) for r in generate_split(split, size=300)}
            for split in ("in-domain", "ood")}
    assert runs == {"in-domain": {0, 1}, "ood": {2}}


def _problem(row: dict) -> Problem:
    left, op, right = row["question"].removeprefix("Compute ").rstrip(".").split()
    return Problem((int(left), int(right)), (op,))


def test_column_working_matches_paper_arithmetic():
    step = work_step(403, "-", 58)
    assert step.result == 345
    assert [(c.digit, c.carry_out) for c in step.columns] == [(5, 1), (4, 1), (3, 0)]
    step = work_step(999, "+", 1)
    assert [(c.digit, c.carry_out) for c in step.columns] == [(0, 1), (0, 1), (0, 1)]
    assert step.result == 1000


@pytest.mark.parametrize("skill", sorted(SKILLS))
def test_operands_have_three_digits_and_results_stay_in_range(skill):
    rng = random.Random(0)
    for _ in range(300):
        problem: Problem = sample_problem(rng, skill)
        assert all(100 <= operand <= 999 for operand in problem.operands)
        assert all(0 <= s.result <= 999 for s in problem.steps[:-1])
        assert problem.answer >= 0


def test_unknown_split_or_style_is_refused():
    with pytest.raises(ValueError, match="choose one of"):
        generate_split("validation", size=1)
    with pytest.raises(ValueError, match="choose one of"):
        generate_split("train", size=1, style="poetry")

"""The repertoire: 8 surfaces of one working, each named back feature by feature, all with
the same numbers and answer."""

from __future__ import annotations

import itertools

import pytest

from dart.data.synthetic import EVERY_MEMBER, SPLIT_SKILLS, STYLES, generate_split
from dart.data.synthetic.problems import Problem
from dart.data.synthetic.repertoire import (
    FEATURES,
    REPERTOIRE,
    Surface,
    render,
    style_features,
    style_of,
    style_share,
)
from dart.rewards.components import numbers_in
from dart.verify import NumericVerifier, extract_answer


def test_the_repertoire_is_every_combination_of_independent_features():
    assert len(REPERTOIRE) == 2 ** len(FEATURES) >= 8
    combos = {tuple(s.features().values()) for s in REPERTOIRE.values()}
    assert combos == set(itertools.product(*FEATURES.values()))
    assert REPERTOIRE["native"] == Surface()
    assert set(REPERTOIRE) <= set(STYLES)


def test_native_is_the_style_the_first_target_was_trained_on_byte_for_byte():
    assert render(Problem((347, 185), ("+",)), REPERTOIRE["native"]) == (
        "347+185\n7+5+0=2 c1\n4+8+1=3 c1\n3+1+1=5 c0\n=532\nAnswer: 532")


def test_results_and_answers_are_written_at_the_operands_width():
    # A tiny mapper reads every digit at a fixed offset: it lost almost every subtraction
    # whose result was under 100 while results were written unpadded (`=81`).
    assert render(Problem((323, 242), ("-",)), REPERTOIRE["native"]) == (
        "323-242\n3-2-0=1 c0\n2-4-0=8 c1\n3-2-1=0 c0\n=081\nAnswer: 081")
    assert render(Problem((705, 705), ("-",)), REPERTOIRE["boxed"]).endswith("=000\n\\boxed{000}")
    assert render(Problem((999, 999), ("+",)), REPERTOIRE["native"]).endswith("=1998\nAnswer: 1998")


def test_other_members_change_only_their_features():
    problem = Problem((347, 185), ("+",))
    assert render(problem, REPERTOIRE["opword-carryword-boxed"]) == (
        "347 plus 185\n7 plus 5 plus 0=2 carry 1\n4 plus 8 plus 1=3 carry 1\n"
        "3 plus 1 plus 1=5 carry 0\n=532\n\\boxed{532}")
    assert render(Problem((323, 242), ("-",)), REPERTOIRE["carryword"]).splitlines()[2] == (
        "2-4-0=8 borrow 1")


@pytest.mark.parametrize("name", sorted(REPERTOIRE))
def test_the_style_function_recovers_every_feature_of_every_member(name):
    for split in SPLIT_SKILLS:
        for row in generate_split(split, seed=2, size=40, style=name):
            assert style_features(row["solution"]) == REPERTOIRE[name].features()
            assert style_of(row["solution"]) == name


@pytest.mark.parametrize("name", sorted(REPERTOIRE))
def test_every_member_states_the_same_numbers_and_answer(name):
    native = generate_split("train", seed=1, size=60, style="native")
    member = generate_split("train", seed=1, size=60, style=name)
    verifier = NumericVerifier()
    for base, row in zip(native, member, strict=True):
        assert numbers_in(row["solution"]) == numbers_in(base["solution"])
        assert row["answer"] == base["answer"]
        # the line states it at the operands' width (`Answer: 006`), the same number
        assert verifier.equivalent(extract_answer(row["solution"]), row["answer"])
        assert verifier.is_correct(row["solution"], row["answer"])


def test_foreign_and_mixed_texts_have_no_member():
    expert = generate_split("train", seed=0, size=5, style="expert")
    short = generate_split("train", seed=0, size=5, style="expert-short")
    for row in expert + short:
        assert style_of(row["solution"]) is None
        assert style_features(row["solution"])["operator"] is None
    native, worded = (generate_split("train", seed=0, size=1, style=s)[0]["solution"]
                      for s in ("native", "opword"))
    mixed = "\n".join(native.splitlines()[:2] + worded.splitlines()[2:])
    assert style_features(mixed) == {"operator": None, "carry": "c", "answer": "line"}
    assert style_of(mixed) is None
    # a subtraction written as additions (what GRPO found against an adding target) is in no
    # member, though every line has a member's shape
    cheat = "756-520\n6-0-0=6 c0\n5+2+0=3 c0\n7+5+0=2 c0\n=236\nAnswer: 236"
    assert style_features(cheat) == {"operator": None, "carry": None, "answer": "line"}
    assert style_features(cheat.replace(" c0", " carry 0").replace("+", "-")) == {
        "operator": None, "carry": None, "answer": "line"}  # carry words belong to addition


def test_style_share_counts_whole_members_and_each_feature():
    texts = [generate_split("train", seed=0, size=1, style=s)[0]["solution"]
             for s in ("native", "native", "boxed", "opword-carryword-boxed")]
    share = style_share(texts + ["garbage"], "native")
    assert share == {"operator": 0.6, "carry": 0.6, "answer": 0.4, "style": 0.4}
    assert style_share([], "boxed")["style"] == 0.0


def test_the_spec_names_every_member_as_a_target_style():
    from typing import get_args

    from dart.config.spec import TargetStyle

    assert set(get_args(TargetStyle)) == set(REPERTOIRE)


def test_every_member_alike_deals_the_members_like_cards_over_the_same_problems():
    """What the repertoire base and the general mapper train on: no member favoured."""
    dealt = generate_split("pretrain", seed=3, size=80, style=EVERY_MEMBER)
    native = generate_split("pretrain", seed=3, size=80, style="native")
    assert [r["question"] for r in dealt] == [r["question"] for r in native]
    for start in range(0, 80, len(REPERTOIRE)):
        window = dealt[start:start + len(REPERTOIRE)]
        assert sorted(r["style"] for r in window) == sorted(REPERTOIRE)
    assert all(style_of(r["solution"]) == r["style"] for r in dealt)
    assert dealt == generate_split("pretrain", seed=3, size=80, style=EVERY_MEMBER)
    other = generate_split("pretrain", seed=4, size=80, style=EVERY_MEMBER)
    assert [r["style"] for r in other] != [r["style"] for r in dealt]


def test_copy_practice_can_rewrite_into_dealt_members():
    from collections import Counter

    from dart.data.synthetic.copying import copy_practice

    rows = copy_practice(seed=5, size=160, rewrite_style=EVERY_MEMBER)
    assert Counter(r["style"] for r in rows) == {name: 20 for name in REPERTOIRE}
    assert all(style_of(r["rewrite"]) == r["style"] for r in rows)
    plain = copy_practice(seed=5, size=160)
    assert [r["expert"] for r in plain] == [r["expert"] for r in rows]
    assert {r["style"] for r in plain} == {"native"}

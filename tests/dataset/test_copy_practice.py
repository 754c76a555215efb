"""Copy practice: workings whose digits follow no arithmetic, rendered in every style, so the
mapper can only rewrite them by reading the expert text."""

from __future__ import annotations

from collections import Counter

from dart.data.synthetic import generate_split
from dart.data.synthetic.copying import copy_practice
from dart.data.synthetic.problems import Problem
from dart.data.synthetic.styles import native_solution
from dart.rewards.components import numbers_kept


def test_same_seed_same_rows_both_operators_both_expert_styles():
    rows = copy_practice(seed=3, size=40)
    assert rows == copy_practice(seed=3, size=40) != copy_practice(seed=4, size=40)
    assert {r["question"].split()[2] for r in rows} == {"+", "-"}
    assert sum("\\boxed" in r["expert"] and "place" in r["expert"] for r in rows) == 20


def test_the_working_is_mostly_not_arithmetic():
    """Random digits: a mapper that computes the lines instead of copying them gets them wrong."""
    rows = copy_practice(seed=0, size=200)
    true = 0
    for row in rows:
        left, op, right = row["question"].removeprefix("Compute ").removesuffix(".").split()
        true += row["rewrite"] == native_solution(Problem((int(left), int(right)), (op,)))
    assert true <= 2


def test_native_lines_restate_the_expert_numbers_in_order():
    """The numbers check of the reward passes an exact copy, as it does on the real task."""
    for row in copy_practice(seed=1, size=50):
        assert numbers_kept(row["rewrite"], row["expert"]) == 1.0
    for native, expert in zip(generate_split("train", seed=0, size=50, style="native"),
                              generate_split("train", seed=0, size=50, style="expert-short"),
                              strict=True):
        assert numbers_kept(native["solution"], expert["solution"]) == 1.0


def test_operands_share_digits_and_results_vary_in_length_as_subtractions_do():
    """A mapper that never practised `709 - 705 = 4` mis-copied the operands of exactly such
    subtractions (examples/synthetic-task.md)."""
    rows = copy_practice(seed=2, size=1000)
    terms = [r["question"].removeprefix("Compute ").removesuffix(".").split() for r in rows]
    shared = sum(left[0] == right[0] for left, _, right in terms) / len(terms)
    lengths = Counter(len(str(int(r["rewrite"].rsplit("Answer: ", 1)[1]))) for r in rows)
    assert 0.3 <= shared <= 0.5  # 0.3 drawn shared, plus 1 in 9 by chance
    assert all(lengths[n] >= 50 for n in (1, 2, 3, 4))

"""Chained 3-digit arithmetic problems and their column-by-column working.

A problem is a left-to-right chain of 3-digit operands (347 + 185; the code allows longer
chains such as 347 + 185 - 129). Every intermediate result stays within 0..999 and every step
is worked in three columns, so a tiny model never has to length-generalise: the skills differ
by operation and by how far a borrow travels, not by size (DESIGN.md: tiny models score 0 on
one more digit, whatever they were trained on).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

WIDTH = 3
MAX_OPERAND = 10**WIDTH - 1
PLACES = ("ones", "tens", "hundreds")


@dataclass(frozen=True)
class Column:
    """One column of a written addition or subtraction: digits in, digit out, carry/borrow out."""

    place: str
    top: int
    bottom: int
    carry_in: int
    digit: int
    carry_out: int


@dataclass(frozen=True)
class Step:
    """One binary operation of the chain, worked column by column from the ones place."""

    left: int
    op: str
    right: int
    result: int
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Problem:
    """A chain of operands and operators evaluated left to right."""

    operands: tuple[int, ...]
    ops: tuple[str, ...]

    @property
    def question(self) -> str:
        terms = [str(self.operands[0])]
        for op, operand in zip(self.ops, self.operands[1:], strict=True):
            terms += [op, str(operand)]
        return f"Compute {' '.join(terms)}."

    @property
    def steps(self) -> tuple[Step, ...]:
        steps, left = [], self.operands[0]
        for op, right in zip(self.ops, self.operands[1:], strict=True):
            steps.append(work_step(left, op, right))
            left = steps[-1].result
        return tuple(steps)

    @property
    def answer(self) -> int:
        return self.steps[-1].result


def work_step(left: int, op: str, right: int) -> Step:
    """Work `left op right` the way it is taught on paper: ones first, carrying or borrowing."""
    columns, carry = [], 0
    for index, place in enumerate(PLACES):
        top, bottom = left // 10**index % 10, right // 10**index % 10
        raw = top + bottom + carry if op == "+" else top - bottom - carry
        digit, carry_out = (raw % 10, raw // 10) if op == "+" else (raw % 10, int(raw < 0))
        columns.append(Column(place, top, bottom, carry, digit, carry_out))
        carry = carry_out
    result = left + right if op == "+" else left - right
    return Step(left, op, right, result, tuple(columns))


# ----------------------------------------------------------------------------- skills

def longest_borrow_run(problem: Problem) -> int:
    """Longest run of consecutive columns that pass a carry or borrow on (1, 2 or 3)."""
    longest = run = 0
    for step in problem.steps:
        for column in step.columns:
            run = run + 1 if column.carry_out else 0
            longest = max(longest, run)
        run = 0
    return longest


# A skill is an operator pattern plus a condition on the working. Subtraction is split by
# how far a borrow travels: training sees borrows that stop at the next column; the
# out-of-distribution split needs a borrow passed through two columns (e.g. 403 - 158), the
# same column rule applied in a combination never shown (DESIGN.md: "longer borrow chains").
SKILLS: dict[str, tuple[tuple[str, ...], Callable[[Problem], bool]]] = {
    "add": (("+",), lambda p: True),
    "subtract": (("-",), lambda p: longest_borrow_run(p) <= 1),
    "subtract-long-borrow": (("-",), lambda p: longest_borrow_run(p) >= 2),
}


def sample_problem(rng: random.Random, skill: str) -> Problem:
    """Draw a problem of `skill` whose intermediates stay in 0..999 (the final sum may carry)."""
    ops, condition = SKILLS[skill]
    while True:
        operands = tuple(_operand(rng) for _ in range(len(ops) + 1))
        problem = Problem(operands, ops)
        if _in_range(problem) and condition(problem):
            return problem


def _operand(rng: random.Random) -> int:
    # Always three digits: a tiny model then finds every digit it reads at a fixed offset.
    # With mixed widths it had learnt only the layout by the time fixed widths copied digits.
    return rng.randint(10 ** (WIDTH - 1), MAX_OPERAND)


def _in_range(problem: Problem) -> bool:
    steps = problem.steps
    intermediates_ok = all(0 <= s.result <= MAX_OPERAND for s in steps[:-1])
    return intermediates_ok and steps[-1].result >= 0

"""Copy practice for the mapper: column workings whose digits are random, in every style.

    from dart.data.synthetic.copying import copy_practice
    pairs = copy_practice(seed=1, size=2000)   # [{question, expert, rewrite, style}, ...]
    pairs = copy_practice(seed=1, size=2000, rewrite_style="repertoire")  # members dealt

A tiny mapper that practises rewriting only true additions learns to *compute* the lines
(its weights come from the target, which adds) instead of reading them from the expert text,
so on the new skill it writes additions and loses the answer. Practice on workings whose
digits follow no arithmetic at all (`7-3-1=8 c0`) can only be rewritten by copying: it teaches
the mapping from the expert's words and layout to the native lines for both operators, and no
arithmetic of either. Subtraction itself (which digit a column gives) is never shown.

Operands often share digits, as a subtraction's do when its result is small (`709 - 705`):
with independent random operands the mapper mis-copied exactly those problems (every
subtraction it lost had a result under 100), reading a digit of one operand for the other.
Results are as often short as a subtraction's, too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dart.data.synthetic.problems import PLACES, WIDTH, Column, Step
from dart.data.synthetic.styles import STYLES

EXPERT_STYLES = ("expert", "expert-short")


@dataclass(frozen=True)
class Working:
    """What the styles render: a question, its steps and the final answer (here arbitrary)."""

    question: str
    steps: tuple[Step, ...]
    answer: int


SHARED_DIGITS = 0.3
"""Chance that the right operand repeats the left one's leading digit, and then its middle."""
SHORT_RESULT = 0.3
"""Chance that a result's leading digit is zero, drawn again for the next one (30%, 9%, ...)."""


def random_working(rng: random.Random, op: str) -> Working:
    """`left op right` with the operands' digits in the columns and random results/carries."""
    left, right = _operands(rng)
    digits, carries = _result_digits(rng)
    columns, carry = [], 0
    for index, place in enumerate(PLACES):
        top, bottom = left // 10**index % 10, right // 10**index % 10
        columns.append(Column(place, top, bottom, carry, digits[index], carries[index]))
        carry = carries[index]
    result = sum(c.digit * 10**i for i, c in enumerate(columns)) + carry * 10**WIDTH
    step = Step(left, op, right, result, tuple(columns))
    return Working(f"Compute {left} {op} {right}.", (step,), result)


def _operands(rng: random.Random) -> tuple[int, int]:
    """Two three-digit operands, the right one often repeating the left one's leading digits."""
    left, right = (rng.randint(10 ** (WIDTH - 1), 10**WIDTH - 1) for _ in range(2))
    for index in reversed(range(1, WIDTH)):
        if rng.random() >= SHARED_DIGITS:
            break
        place = 10**index
        right += (left // place % 10 - right // place % 10) * place
    return left, right


def _result_digits(rng: random.Random) -> tuple[list[int], list[int]]:
    """Random result digits and carries per column (ones first), with leading zeros often."""
    digits = [rng.randint(0, 9) for _ in PLACES]
    carries = [rng.randint(0, 1) for _ in PLACES]
    for index in reversed(range(1, WIDTH)):
        if rng.random() >= SHORT_RESULT:
            break
        digits[index] = carries[-1] = 0  # nor does a short result carry out of the last column
    return digits, carries


def copy_practice(*, seed: int, size: int, rewrite_style: str = "native") -> list[dict]:
    """`size` rewrite examples, alternating operator and expert style, identical per seed;
    the rewrite in `rewrite_style`, or in members of the repertoire dealt like cards."""
    from dart.data.synthetic import EVERY_MEMBER, deal_members

    rng = random.Random(seed)
    styles = (deal_members(f"copy:{seed}", size) if rewrite_style == EVERY_MEMBER
              else [rewrite_style] * size)
    rows = []
    for index in range(size):
        working = random_working(rng, "+-"[index % 2])
        expert = EXPERT_STYLES[(index // 2) % 2]
        rows.append({"question": working.question, "expert": STYLES[expert](working),
                     "rewrite": STYLES[styles[index]](working), "style": styles[index]})
    return rows

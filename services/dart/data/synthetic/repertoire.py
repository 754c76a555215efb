"""The repertoire: surface styles of the column working built from independent features.

    from dart.data.synthetic.repertoire import REPERTOIRE, render, style_features, style_of
    text = render(problem, REPERTOIRE["opword-boxed"])
    style_features(text)   # {"operator": "word", "carry": "c", "answer": "boxed"}
    style_of(text)         # "opword-boxed"

Every member writes the same lines in the same order with the same numbers (the reward's
numbers check passes any member against any other) and the same final answer; only the
surface differs, feature by feature:

- `operator`: `7+5+0=2` (symbol) or `7 plus 5 plus 0=2` (word: plus / minus)
- `carry`:    ` c1` (c) or ` carry 1` (word: carry / borrow)
- `answer`:   `Answer: 532` (line) or `\\boxed{532}` (boxed)

The member with every first value is `native`, the style the first tiny target was
pre-trained on (byte for byte). Issue #16 builds on the repertoire: targets pre-trained in
different members (TARGET_STYLES), and a general mapper that writes all of them without
preference (dart.models.pretrain), so that RL has to find which one its target likes.
Because the features are independent, a rewrite that gets some of them right is partly as
likely under the target: the reward has a slope to climb. Every word is one the expert's
prose already uses, so the tokenizer serves every member compactly.

`style_features` is pure and reads any text: a feature is named only when every line that
shows it agrees, so a rewrite that mixes two surfaces of a feature has no value for it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, fields

from dart.data.synthetic.problems import WIDTH, Problem, Step

OPERATOR_WORDS = {"+": "plus", "-": "minus"}
CARRY_WORDS = {"+": "carry", "-": "borrow"}


@dataclass(frozen=True)
class Surface:
    """One member of the repertoire: a value per feature (first values: `native`)."""

    operator: str = "symbol"
    carry: str = "c"
    answer: str = "line"

    @property
    def name(self) -> str:
        """`native`, or the non-native values joined: `opword`, `carryword`, `boxed`."""
        tags = [TAGS[f] for f, v in self.features().items() if v != FEATURES[f][0]]
        return "-".join(tags) or "native"

    def features(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


FEATURES: dict[str, tuple[str, str]] = {
    "operator": ("symbol", "word"),
    "carry": ("c", "word"),
    "answer": ("line", "boxed"),
}
"""Each feature's values; the first is the native style's."""
TAGS = {"operator": "opword", "carry": "carryword", "answer": "boxed"}

REPERTOIRE: dict[str, Surface] = {
    s.name: s for s in (Surface(*values) for values in itertools.product(*FEATURES.values()))
}
"""Every combination of feature values, by name (8 members, `native` first)."""

TARGET_STYLES = ("native", "opword-carryword-boxed")
"""The members the shipped tiny targets are pre-trained in: native and its opposite on every
feature, so a test can tell that RL found each target's own (any member can be built)."""


# ----------------------------------------------------------------------------- rendering


def render(problem: Problem, surface: Surface) -> str:
    """Column lines per step, each step's result, then the answer, in `surface`."""
    blocks = [_step(step, surface) for step in problem.steps]
    return "\n".join(blocks + [_answer(problem.answer, surface)])


def _step(step: Step, surface: Surface) -> str:
    op = step.op if surface.operator == "symbol" else f" {OPERATOR_WORDS[step.op]} "
    lines = [f"{step.left:03d}{op}{step.right:03d}"]
    for c in step.columns:
        lines.append(f"{c.top}{op}{c.bottom}{op}{c.carry_in}={c.digit}"
                     f"{_carry(step.op, c.carry_out, surface)}")
    lines.append(f"={step.result:0{WIDTH}d}")
    return "\n".join(lines)


def _carry(op: str, carry_out: int, surface: Surface) -> str:
    return f" c{carry_out}" if surface.carry == "c" else f" {CARRY_WORDS[op]} {carry_out}"


def _answer(answer: int, surface: Surface) -> str:
    padded = f"{answer:0{WIDTH}d}"
    return f"Answer: {padded}" if surface.answer == "line" else f"\\boxed{{{padded}}}"


# ----------------------------------------------------------------------------- naming

# A column line of any member: digit op digit op carry-in = digit carry-marker.
_COLUMN = re.compile(r"^\d(?P<op>[+-]| plus | minus )\d(?P=op)[01]=\d"
                     r"(?P<carry> c[01]| carry [01]| borrow [01])$", re.MULTILINE)
_ANSWER = re.compile(r"^(?:(?P<line>Answer: -?\d+)|(?P<boxed>\\boxed\{-?\d+\}))$",
                     re.MULTILINE)


_HEAD = re.compile(r"^\d+(?P<op>[+-]| plus | minus )\d+$", re.MULTILINE)
_OPERATION_OF_WORD = {word: op for op, word in (*OPERATOR_WORDS.items(), *CARRY_WORDS.items())}


def style_features(text: str) -> dict[str, str | None]:
    """The value of every feature `text` shows consistently; None where it shows none or
    more than one (a mixed or foreign surface). A column line under another operation than
    its step's first line (`5+2+0=3` under `756-520`) is foreign: it names no operator and
    no carry, so a rewrite that turns a subtraction into additions is in no member."""
    columns = list(_COLUMN.finditer(text))
    answers = list(_ANSWER.finditer(text))
    seen = {
        "operator": {"symbol" if m["op"] in "+-" else "word" for m in columns},
        "carry": {"c" if m["carry"].startswith(" c") and m["carry"][2:].isdigit() else "word"
                  for m in columns},
        "answer": {"line" if m["line"] else "boxed" for m in answers},
    }
    heads = list(_HEAD.finditer(text))
    if not all(_under_its_operation(m, heads) for m in columns):
        seen["operator"] = seen["carry"] = set()
    return {name: values.pop() if len(values) == 1 else None for name, values in seen.items()}


def _operation(op: str) -> str:
    """`+` or `-` for an operator as a column writes it (`-`, ` minus `)."""
    return _OPERATION_OF_WORD.get(op.strip(), op.strip())


def _under_its_operation(column: re.Match, heads: list[re.Match]) -> bool:
    """The column's operator (and carry word, if any) are its step's: the last head above."""
    head = next((h for h in reversed(heads) if h.start() < column.start()), None)
    if head is None:
        return False
    operation = _operation(head["op"])
    # ` borrow 1` names an operation; ` c1` names none and goes with any
    carry = _OPERATION_OF_WORD.get(column["carry"].split()[0], operation)
    return _operation(column["op"]) == operation == carry


def style_of(text: str) -> str | None:
    """The repertoire member `text` is written in, or None when any feature is unnamed."""
    values = style_features(text)
    if None in values.values():
        return None
    return Surface(**values).name


def style_share(texts: list[str], style: str) -> dict[str, float]:
    """Fraction of `texts` written in `style` (key `style`) and, per feature, fraction
    showing that member's value of the feature."""
    wanted = REPERTOIRE[style].features()
    named = [style_features(t) for t in texts]
    n = max(len(texts), 1)
    shares = {f: sum(v[f] == wanted[f] for v in named) / n for f in FEATURES}
    shares["style"] = sum(v == wanted for v in named) / n
    return shares

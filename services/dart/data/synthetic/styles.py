"""The solution styles of the synthetic task.

- `native`: terse column traces, what the shipped tiny target was pre-trained on; one member
  of the repertoire (dart.data.synthetic.repertoire: 8 surfaces of the same lines), whose
  other members render here too.
- `expert`: the external SFT data's style, wordy prose with a boxed answer (~3.5x the tokens).
- `expert-short`: a foreign style of native length (other layout, order and separators), so
  the effect of style can be told apart from the effect of length (DESIGN.md).

All of them carry the same working and the same final answer; only the surface differs.
"""

from __future__ import annotations

from collections.abc import Callable

from dart.data.synthetic.problems import Problem, Step
from dart.data.synthetic.repertoire import REPERTOIRE, Surface, render

OP_WORDS = {"+": ("add", "plus", "carry"), "-": ("subtract", "minus", "borrow")}


# ----------------------------------------------------------------------------- native


def native_solution(problem: Problem) -> str:
    """Column lines `top op bottom op carry=digit cN` per step, then `Answer: N` (the
    repertoire's member with every native feature)."""
    return render(problem, REPERTOIRE["native"])


# ----------------------------------------------------------------------------- expert


def expert_solution(problem: Problem) -> str:
    """Prose that narrates every column, restates each result and boxes the final answer."""
    terms = problem.question.removeprefix("Compute ").removesuffix(".")
    paragraphs = [f"We need to compute {terms}, working from left to right."]
    for index, step in enumerate(problem.steps):
        paragraphs.append(_expert_step(step, "First" if index == 0 else "Next"))
    paragraphs.append(f"Therefore, the final answer is \\boxed{{{problem.answer}}}.")
    return "\n".join(paragraphs)


def _expert_step(step: Step, opener: str) -> str:
    verb, word, carry = OP_WORDS[step.op]
    head = (f"{opener}, we {verb} {step.right} from {step.left}." if step.op == "-"
            else f"{opener}, we {verb} {step.left} and {step.right}.")
    sentences = [head]
    for c in step.columns:
        sentences.append(
            f"In the {c.place} place, {c.top} {word} {c.bottom} {word} the {carry} {c.carry_in}"
            f" gives digit {c.digit}, and we {carry} {c.carry_out}."
        )
    sentences.append(f"So {step.left} {step.op} {step.right} = {step.result}.")
    return " ".join(sentences)


# ----------------------------------------------------------------------------- expert-short


def expert_short_solution(problem: Problem) -> str:
    """Native-length but foreign: one line per step, columns as
    `(top,bottom,carry_in)->digit/carry_out`: every number the native lines state, in the same
    order, so only the surface differs."""
    lines = [_short_step(step) for step in problem.steps]
    return "\n".join(lines + [f"\\boxed{{{problem.answer}}}"])


def _short_step(step: Step) -> str:
    columns = "; ".join(
        f"({c.top},{c.bottom},{c.carry_in})->{c.digit}/{c.carry_out}" for c in step.columns
    )
    return f"{step.left} {step.op} {step.right}: {columns} => {step.result}"


def _member(surface: Surface) -> Callable[[Problem], str]:
    return lambda problem: render(problem, surface)


STYLES: dict[str, Callable[[Problem], str]] = {
    "native": native_solution,
    "expert": expert_solution,
    "expert-short": expert_short_solution,
    **{name: _member(s) for name, s in REPERTOIRE.items() if name != "native"},
}
"""Every style a split renders in: the two experts' and every member of the repertoire."""

"""The bundled synthetic task: 3-digit column arithmetic with solutions in several styles.

    from dart.data.synthetic import generate_split
    rows = generate_split("train", seed=0, size=2000, style="expert", replay_fraction=0.2)

The tiny target is pre-trained on the `pretrain` split (the old skill: 3-digit addition,
native style). DART then adapts the `train` split (the new skill, subtraction with borrows,
in the expert's style) and evaluates on `in-domain` (subtraction), `retention` (addition)
and `ood` (subtractions whose borrow travels through two columns, e.g. 403 - 158: the same
rule in an unseen combination, never a longer number). Every split renders in every style
from the same problems, so `style="native"` on the train split is the oracle a perfect mapper
would write. Design and rationale: examples/synthetic-task.md.
"""

from __future__ import annotations

import random
import zlib

from dart.data.synthetic.problems import SKILLS, Problem, sample_problem
from dart.data.synthetic.repertoire import REPERTOIRE
from dart.data.synthetic.styles import STYLES

OLD_SKILLS = ("add",)
NEW_SKILL = "subtract"

# Which skills each split draws from, and the style it is rendered in by default.
SPLIT_SKILLS: dict[str, tuple[str, ...]] = {
    "pretrain": OLD_SKILLS,
    "train": (NEW_SKILL,),
    "in-domain": (NEW_SKILL,),
    "retention": OLD_SKILLS,
    "ood": ("subtract-long-borrow",),
}
DEFAULT_STYLE = {"pretrain": "native", "train": "expert"}
EVERY_MEMBER = "repertoire"
"""The style that renders each row in a member of the repertoire, dealt like cards (each
member once in every 8 rows, in a shuffled order): what a model with no preference reads."""
EVAL_SPLITS = ("in-domain", "retention", "ood")
HELD_OUT_BUCKETS = 5  # one problem in five (by a hash of its text) is reserved for evaluation


def generate_split(
    split: str, *, seed: int = 0, size: int, style: str | None = None,
    replay_fraction: float = 0.0,
) -> list[dict]:
    """Rows {id, question, solution, answer, style, skill}; identical for identical arguments.

    `replay_fraction` of the rows are old-skill problems (only meaningful for `train`), so
    SFT keeps the old skills and retention can be measured (DESIGN.md: without replay both
    styles forget addition almost entirely).
    """
    style = style or DEFAULT_STYLE.get(split, "native")
    _check_choice("split", split, SPLIT_SKILLS)
    _check_choice("style", style, [*STYLES, EVERY_MEMBER])
    rng = random.Random(f"dart-synthetic:{seed}:{split}")
    styles = deal_members(f"{seed}:{split}", size) if style == EVERY_MEMBER else [style] * size
    held_out = split in EVAL_SPLITS
    rows = []
    for index in range(size):
        skill = _pick_skill(rng, split, replay_fraction)
        problem = _sample_in_partition(rng, skill, held_out)
        rows.append(_row(f"{split}-{index:06d}", problem, skill, styles[index]))
    return rows


def deal_members(seed: str | int, size: int) -> list[str]:
    """`size` repertoire members dealt like cards: every 8 in a row hold each member once.
    Its own random stream, so the problems of a split are the same in every style."""
    rng = random.Random(f"dart-deal:{seed}")
    dealt: list[str] = []
    while len(dealt) < size:
        deck = list(REPERTOIRE)
        rng.shuffle(deck)
        dealt += deck
    return dealt[:size]


def is_held_out(problem: Problem) -> bool:
    """Evaluation problems never occur in pre-training or training data, whatever the sizes."""
    return zlib.crc32(problem.question.encode()) % HELD_OUT_BUCKETS == 0


def _pick_skill(rng: random.Random, split: str, replay_fraction: float) -> str:
    if replay_fraction and rng.random() < replay_fraction:
        return rng.choice(OLD_SKILLS)
    return rng.choice(SPLIT_SKILLS[split])


def _sample_in_partition(rng: random.Random, skill: str, held_out: bool) -> Problem:
    while True:
        problem = sample_problem(rng, skill)
        if is_held_out(problem) == held_out:
            return problem


def _row(row_id: str, problem: Problem, skill: str, style: str) -> dict:
    return {
        "id": row_id,
        "question": problem.question,
        "solution": STYLES[style](problem),
        "answer": str(problem.answer),
        "style": style,
        "skill": skill,
    }


def _check_choice(what: str, value: str, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; choose one of: {', '.join(allowed)}")


__all__ = ["EVAL_SPLITS", "EVERY_MEMBER", "NEW_SKILL", "OLD_SKILLS", "SKILLS", "SPLIT_SKILLS",
           "STYLES", "deal_members", "generate_split", "is_held_out"]

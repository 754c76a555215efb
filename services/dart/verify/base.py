"""The verifier seam: read a final answer out of a solution and compare it with the gold one.

Rewards (answer preserved?), synthesis gates, dataset loading (is the gold parseable?) and
evaluation (accuracy) all go through one `Verifier`, so they never disagree on what counts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from dart.verify.extract import extract_answer


class Verifier(ABC):
    """Extracts answers and decides equivalence; subclasses define what "equal" means."""

    def __init__(self, extraction: str = "auto"):
        self.extraction = extraction

    def extract(self, text: str) -> str | None:
        """The final answer written in a solution, or None when it has none."""
        return extract_answer(text, self.extraction)

    @abstractmethod
    def normalize_gold(self, answer: str) -> str | None:
        """The gold answer in comparable form, or None when it cannot be parsed (a bad row)."""

    def normalize_golds(self, answers: Sequence[str]) -> list[str | None]:
        """Batch form of `normalize_gold`."""
        return [self.normalize_gold(a) for a in answers]

    @abstractmethod
    def equivalent(self, predicted: str, gold: str) -> bool:
        """Whether two answers are the same (never raises on garbage: it is just not equal)."""

    def equivalent_many(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Batch form of `equivalent`; process-backed verifiers run it in parallel."""
        return [self.equivalent(p, g) for p, g in pairs]

    def is_correct(self, solution: str, gold: str) -> bool:
        """A solution is correct when it has an answer equivalent to the gold one."""
        return self.score_many([(solution, gold)])[0]

    def score_many(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        """`is_correct` for many (solution, gold) pairs; a missing answer is wrong."""
        extracted = [(self.extract(s), g) for s, g in items]
        found = [(p, g) for p, g in extracted if p is not None]
        verdicts = iter(self.equivalent_many(found))
        return [p is not None and next(verdicts) for p, _ in extracted]

    def close(self) -> None:  # noqa: B027 (a no-op is right for in-process verifiers)
        """Release worker processes, if any."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""Free-form math answers compared with `math-verify` (symbolic and numeric equivalence).

Both answers are wrapped in `\\boxed{}` before parsing: math-verify then reads LaTeX
(`\\frac{\\sqrt{3}}{2}`) and plain expressions (`sqrt(3)/2`, `0.5`, `1,000`) alike.
Every parse and comparison runs in a worker process (see `dart.verify.workers`).
"""

from __future__ import annotations

from collections.abc import Sequence

from dart.verify.base import Verifier
from dart.verify.workers import TIMED_OUT, WorkerPool


class MathVerifyVerifier(Verifier):
    """math-verify in killable worker processes; a timeout counts as "not equivalent"."""

    def __init__(self, extraction: str = "auto", timeout: float = 5.0, workers: int = 2):
        super().__init__(extraction)
        self.pool = WorkerPool(workers, timeout, initializer=_import_math_verify)
        self.inner_timeout = max(1, int(timeout))

    def normalize_gold(self, answer: str) -> str | None:
        return self.normalize_golds([answer])[0]

    def normalize_golds(self, answers: Sequence[str]) -> list[str | None]:
        """One round trip to the workers for the whole batch."""
        calls = [(a, self.inner_timeout) for a in answers]
        parsed = self.pool.run(_parses, calls)
        return [a.strip() if ok is True else None for a, ok in zip(answers, parsed, strict=True)]

    def equivalent(self, predicted: str, gold: str) -> bool:
        return self.equivalent_many([(predicted, gold)])[0]

    def equivalent_many(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        calls = [(p, g, self.inner_timeout) for p, g in pairs]
        return [r is not TIMED_OUT and bool(r) for r in self.pool.run(_equivalent, calls)]

    def close(self) -> None:
        self.pool.close()


# ----------------------------------------------------------------------------- in workers


def _import_math_verify() -> None:
    import math_verify  # noqa: F401  (pay the sympy import once per worker)


def _parses(answer: str, timeout: int) -> bool:
    from math_verify import parse

    return bool(answer.strip()) and bool(parse(_boxed(answer), parsing_timeout=timeout))


def _equivalent(predicted: str, gold: str, timeout: int) -> bool:
    from math_verify import parse, verify

    gold_parsed = parse(_boxed(gold), parsing_timeout=timeout)
    predicted_parsed = parse(_boxed(predicted), parsing_timeout=timeout)
    if not gold_parsed or not predicted_parsed:
        return False
    return verify(gold_parsed, predicted_parsed, timeout_seconds=timeout)


def _boxed(answer: str) -> str:
    return answer if "\\boxed" in answer else f"\\boxed{{{answer}}}"

"""Answer verification: extract a final answer, compare it with the gold one.

    verifier = verifier_for(spec)            # or make_verifier(spec.verifier, synthetic=True)
    verifier.is_correct(solution, gold)      # extract, then compare
    verifier.extract(text); verifier.equivalent(predicted, gold)

`numeric` and `exact` run in-process (the synthetic task, labels); `math-verify` runs in
killable worker processes with a timeout. Close the verifier (or use `with`) to stop them.
"""

from __future__ import annotations

from dart.verify.base import Verifier
from dart.verify.extract import EXTRACTIONS, extract_answer
from dart.verify.simple import ExactVerifier, NumericVerifier, parse_number


def make_verifier(settings, *, synthetic: bool = False, workers: int = 2) -> Verifier:
    """The verifier named by the spec's `Verifier.type`; `auto` is numeric for the synthetic
    task (integer answers) and math-verify for anything else (free-form math)."""
    kind = settings.type
    if kind == "auto":
        kind = "numeric" if synthetic else "math-verify"
    if kind == "numeric":
        return NumericVerifier(settings.extraction)
    if kind == "exact":
        return ExactVerifier(settings.extraction)
    if kind == "math-verify":
        from dart.verify.mathverify import MathVerifyVerifier

        return MathVerifyVerifier(settings.extraction, settings.timeout_seconds, workers)
    raise ValueError(f"unknown verifier type {kind!r}")


def verifier_for(spec, *, workers: int = 2) -> Verifier:
    """The verifier of a DartRunSpec (knows whether its dataset is the synthetic task)."""
    return make_verifier(spec.verifier, synthetic=spec.dataset.synthetic is not None,
                         workers=workers)


__all__ = ["EXTRACTIONS", "ExactVerifier", "NumericVerifier", "Verifier", "extract_answer",
           "make_verifier", "parse_number", "verifier_for"]

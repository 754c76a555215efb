"""Verifiers for answers that are numbers or fixed strings (the synthetic task, exact labels)."""

from __future__ import annotations

import re
from fractions import Fraction

from dart.verify.base import Verifier

# Decoration around a number that never changes its value: currency, units, thousands commas.
_DECORATION = re.compile(r"[\s$€£%,]|\\[,!;]|\\text\{[^}]*\}|\\?\$")
_LATEX_FRACTION = re.compile(r"^\\[dt]?frac\{(-?\d+)\}\{(-?\d+)\}$")


def parse_number(text: str) -> Fraction | None:
    """An exact rational from `42`, `-3.50`, `1,000`, `$12`, `7/8` or `\\frac{7}{8}`."""
    cleaned = _DECORATION.sub("", text).rstrip(".")
    fraction = _LATEX_FRACTION.match(cleaned)
    if fraction:
        cleaned = f"{fraction.group(1)}/{fraction.group(2)}"
    try:
        return Fraction(cleaned)
    except (ValueError, ZeroDivisionError):
        return None


class NumericVerifier(Verifier):
    """Equal when both answers parse to the same exact rational (`3.0` == `3` == `6/2`)."""

    def normalize_gold(self, answer: str) -> str | None:
        value = parse_number(answer)
        return None if value is None else str(value)

    def equivalent(self, predicted: str, gold: str) -> bool:
        left, right = parse_number(predicted), parse_number(gold)
        return left is not None and left == right


class ExactVerifier(Verifier):
    """Equal when the strings match after trimming, collapsing spaces and ignoring case."""

    def normalize_gold(self, answer: str) -> str | None:
        return _normalize(answer) or None

    def equivalent(self, predicted: str, gold: str) -> bool:
        return bool(_normalize(predicted)) and _normalize(predicted) == _normalize(gold)


def _normalize(text: str) -> str:
    return " ".join(text.strip().rstrip(".").split()).lower()

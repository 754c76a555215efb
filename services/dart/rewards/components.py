"""Reward components, each a plain function of text and per-token log-probs.

The reward for a rewrite r of an expert solution e (both answers to question q) is

    alignment_weight * clip(mean log p_T(r | q) - mean log p_T(e | q))        # nats/token
  + min_token_weight * clip(min  log p_T(r | q) - min  log p_T(e | q))
  - penalties (answer changed, no answer, numbers the expert never stated, operations it
    never performs, length outside band, repetition, verbatim copy)

where p_T is the frozen target. The mean/min pair follows RLT (reward = student
log-likelihood of the teacher's explanation, mean and min token terms); the answer gate follows
SDFT and arXiv 2602.11220. No torch or gRPC here: these run anywhere and are tested by hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"\S+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# An arithmetic operator between two numbers (`6-0`, `3 * 4`), or one spelled out.
_OPERATION = re.compile(r"\d\s*([-+*/\u00d7\u00f7])(?=\s*\d)|\b(plus|minus|times)\b")
_SAME_OPERATION = {"plus": "+", "minus": "-", "times": "*", "\u00d7": "*", "\u00f7": "/"}


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def alignment_gain(rewrite_logprobs: Sequence[float], expert_logprobs: Sequence[float]) -> float:
    """Mean per-token log-prob of the rewrite minus that of the expert solution (nats/token).

    Positive when the target finds the rewrite more natural than the original demonstration.
    An empty rewrite has no likelihood to speak of: it gets -inf (and is clipped by the caller).
    """
    if not expert_logprobs:
        raise ValueError("the expert solution has no scored tokens")
    if not rewrite_logprobs:
        return float("-inf")
    return _mean(rewrite_logprobs) - _mean(expert_logprobs)


def min_token_gain(rewrite_logprobs: Sequence[float], expert_logprobs: Sequence[float]) -> float:
    """Least likely token of the rewrite minus least likely token of the expert solution.

    Punishes a rewrite that is fluent on average but contains one token the target would never
    produce (RLT's min term).
    """
    if not expert_logprobs:
        raise ValueError("the expert solution has no scored tokens")
    if not rewrite_logprobs:
        return float("-inf")
    return min(rewrite_logprobs) - min(expert_logprobs)


def length_ratio(rewrite_tokens: int, expert_tokens: int) -> float:
    """Rewrite length as a multiple of the expert solution's length (target tokens)."""
    return rewrite_tokens / max(expert_tokens, 1)


def outside_length_band(ratio: float, min_ratio: float, max_ratio: float) -> bool:
    """True for a rewrite that dropped the reasoning (too short) or padded it (too long)."""
    return not (min_ratio <= ratio <= max_ratio)


def repeated_ngram_fraction(text: str, n: int) -> float:
    """Fraction of word n-grams that repeat an earlier n-gram of the same text.

    0 for text with no repetition; close to 1 for a rewrite that loops or pads with filler.
    Word n-grams (not tokens) so the measure does not depend on any tokenizer.
    """
    words = _WORD.findall(text)
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def is_verbatim_copy(rewrite: str, expert: str) -> bool:
    """The rewrite is the expert solution again (whitespace differences ignored)."""
    return _WORD.findall(rewrite) == _WORD.findall(expert)


def numbers_in(text: str) -> list[str]:
    """The numbers a text states, in order (digit runs, with an optional decimal part), with
    leading zeros dropped: `060` (a fixed-width result line) states the expert's `60`."""
    return [number if "." in number else (number.lstrip("0") or "0")
            for number in _NUMBER.findall(text)]


def numbers_kept(rewrite: str, expert: str) -> float:
    """Fraction of the rewrite's numbers that restate the expert's, in the expert's order.

    The longest common subsequence of the two number sequences, over the rewrite's count: 1.0
    for a rewrite that only restates the expert's working (in any words), less for one that
    invents intermediate results. That is the cheat an answer check alone misses: working of
    its own, then the gold answer copied at the end. Dropping numbers is not punished here
    (the length band does that); a rewrite with no numbers keeps everything it states.
    """
    mine, theirs = numbers_in(rewrite), numbers_in(expert)
    if not mine:
        return 1.0
    return _lcs_length(mine, theirs) / len(mine)


def operations_in(text: str) -> list[str]:
    """The arithmetic operations a text writes, in order, as `+ - * /` (words and signs alike)."""
    return [_SAME_OPERATION.get(sign or word, sign or word)
            for sign, word in _OPERATION.findall(text)]


def operations_kept(rewrite: str, expert: str) -> float:
    """Fraction of the rewrite's operators whose operation the expert solution also performs.

    The cheat the numbers check cannot see: the same digits in the same order under another
    operator (`5+2+0=3` for a subtraction's column), which a target that only ever added finds
    likely. A rewrite with no operators keeps everything it states.
    """
    mine, theirs = operations_in(rewrite), set(operations_in(expert))
    if not mine:
        return 1.0
    return sum(op in theirs for op in mine) / len(mine)


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]

"""Find the final answer in a worked solution: last `\\boxed{}`, an `Answer:` line, last number.

`auto` tries the three in that order, so a solution that boxes its answer is read from the
box even when numbers follow it, and a bare worked calculation still yields its last number.
"""

from __future__ import annotations

import re

EXTRACTIONS = ("auto", "boxed", "answer-line", "last-number")

# "Answer: 42", "The answer is 42", "#### 42" (GSM8K), "final answer: $42$".
ANSWER_LINE = re.compile(r"(?:answer\s*(?:is|:)|^\s*####)\s*(?P<answer>.+?)\s*$",
                         re.IGNORECASE | re.MULTILINE)
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")


def extract_answer(text: str, method: str = "auto") -> str | None:
    """The final answer as written in `text`, or None when `method` finds none."""
    if method not in EXTRACTIONS:
        raise ValueError(f"unknown extraction {method!r}; choose one of: {', '.join(EXTRACTIONS)}")
    finders = [_last_boxed, _answer_line, _last_number]
    if method != "auto":
        finders = [finders[EXTRACTIONS.index(method) - 1]]
    for find in finders:
        answer = find(text)
        if answer:
            return answer
    return None


def _last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` (or `\\fbox{...}`), with nested braces balanced."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    depth, begin = 0, text.index("{", start)
    for index in range(begin, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[begin + 1:index].strip() or None
    return None  # unbalanced: a truncated generation has no answer


def _answer_line(text: str) -> str | None:
    matches = list(ANSWER_LINE.finditer(text))
    if not matches:
        return None
    answer = matches[-1].group("answer").strip().rstrip(".").strip().strip("$").strip()
    return answer or None


def _last_number(text: str) -> str | None:
    numbers = NUMBER.findall(text)
    return numbers[-1] if numbers else None

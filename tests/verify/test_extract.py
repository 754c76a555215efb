"""Answer extraction: boxed beats an answer line beats the last number; each can be forced."""

from __future__ import annotations

import pytest

from dart.verify import extract_answer

SOLUTION = "First 3 + 4 = 7.\nAnswer: 12\nSo the total is \\boxed{\\frac{1}{2}} and then 99."


@pytest.mark.parametrize(("method", "expected"), [
    ("auto", "\\frac{1}{2}"), ("boxed", "\\frac{1}{2}"), ("answer-line", "12"),
    ("last-number", "99"),
])
def test_each_method_reads_its_own_place(method, expected):
    assert extract_answer(SOLUTION, method) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("so \\boxed{1} then \\boxed{2}", "2"),                       # the last box wins
    ("\\boxed{\\frac{a}{b^{2}}}", "\\frac{a}{b^{2}}"),             # nested braces
    ("The answer is $42$.", "42"),
    ("answer: 3 apples", "3 apples"),
    ("step 1\n#### 1,234", "1,234"),                               # GSM8K
    ("7+5+0=2 c1\n=432\nAnswer: 432", "432"),                      # synthetic native
    ("we get -3.5 in the end", "-3.5"),
    ("ratio 7/8", "7/8"),
])
def test_auto_finds_the_final_answer(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize("text", ["", "no numbers here", "\\boxed{", "\\boxed{}", "Answer:  "])
def test_nothing_to_find_is_none(text):
    assert extract_answer(text, "boxed") is None or text == ""
    assert extract_answer(text) is None


def test_truncated_box_falls_back_to_other_methods():
    assert extract_answer("total 5, so \\boxed{5") == "5"


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="choose one of"):
        extract_answer("1", "first-number")

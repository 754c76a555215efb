"""Verifiers on tricky cases: equivalent forms, wrong answers, garbage and timeouts."""

from __future__ import annotations

import time

import pytest

from dart.config.spec import Verifier as VerifierSettings
from dart.verify import ExactVerifier, NumericVerifier, make_verifier, parse_number
from dart.verify.workers import TIMED_OUT, WorkerPool


@pytest.mark.parametrize(("predicted", "gold"), [
    ("3", "3.0"), ("1,000", "1000"), ("$12", "12"), ("-0.50", "-1/2"), ("\\frac{7}{8}", "0.875"),
    ("12.", "12"), ("50%", "50"),
])
def test_numeric_equivalent_forms(predicted, gold):
    assert NumericVerifier().equivalent(predicted, gold)


@pytest.mark.parametrize(("predicted", "gold"), [
    ("4", "3"), ("30", "3"), ("0.333", "1/3"), ("three", "3"), ("", "3"), ("3x", "3"),
])
def test_numeric_wrong_or_garbage(predicted, gold):
    assert not NumericVerifier().equivalent(predicted, gold)


def test_numeric_gold_must_parse():
    verifier = NumericVerifier()
    assert verifier.normalize_gold("1,024") == "1024"
    assert verifier.normalize_gold("about ten") is None
    assert parse_number("1/0") is None


def test_exact_ignores_case_and_spacing_only():
    verifier = ExactVerifier()
    assert verifier.equivalent("  Paris. ", "paris")
    assert not verifier.equivalent("Lyon", "Paris")
    assert verifier.normalize_gold("   ") is None


def test_is_correct_extracts_then_compares():
    verifier = NumericVerifier()
    assert verifier.is_correct("lots of work\nAnswer: 432", "432")
    assert not verifier.is_correct("lots of work\nAnswer: 431", "432")
    assert not verifier.is_correct("no answer at all", "432")
    assert verifier.score_many([("\\boxed{1}", "1"), ("nothing", "1"), ("= 2", "1")]) == [
        True, False, False]


def test_factory_follows_the_spec():
    auto = VerifierSettings()
    assert isinstance(make_verifier(auto, synthetic=True), NumericVerifier)
    assert isinstance(make_verifier(VerifierSettings(type="exact")), ExactVerifier)
    forced = make_verifier(VerifierSettings(type="numeric", extraction="last-number"))
    assert forced.extract("\\boxed{1} then 2") == "2"


@pytest.fixture(scope="module")
def math_verifier():
    verifier = make_verifier(VerifierSettings(type="math-verify", timeout_seconds=3.0))
    yield verifier
    verifier.close()


def test_math_verify_is_the_auto_choice_for_free_form_data(math_verifier):
    assert type(math_verifier).__name__ == "MathVerifyVerifier"


@pytest.mark.parametrize(("predicted", "gold"), [
    ("\\frac{1}{2}", "0.5"), ("\\sqrt{3}/2", "\\frac{\\sqrt{3}}{2}"), ("1+x^2", "x^2+1"),
    ("1,000", "1000"), ("\\$12", "12"), ("\\boxed{6}", "6"),
])
def test_math_verify_equivalent_forms(math_verifier, predicted, gold):
    assert math_verifier.equivalent(predicted, gold)


def test_math_verify_wrong_answers_and_garbage(math_verifier):
    pairs = [("3", "4"), ("x^2", "x^3"), ("}}{{\\frac", "1"), ("", "1"), ("banana", "7")]
    assert math_verifier.equivalent_many(pairs) == [False] * len(pairs)


def test_math_verify_survives_a_pathological_expression(math_verifier):
    started = time.perf_counter()
    assert not math_verifier.equivalent("9^{9^{9^{9^{9}}}}", "1")
    assert math_verifier.equivalent("2", "2.0")  # the pool still works afterwards
    assert time.perf_counter() - started < 15


def test_math_verify_gold_parsing(math_verifier):
    assert math_verifier.normalize_golds(["12", "\\frac{1}{2}", "   "]) == [
        "12", "\\frac{1}{2}", None]


def test_worker_pool_kills_a_stuck_call_and_carries_on():
    pool = WorkerPool(workers=2, timeout=0.5)
    try:
        started = time.perf_counter()
        results = pool.run(time.sleep, [(0,), (30,), (0.01,), (0,)])
        assert results[1] is TIMED_OUT
        assert [results[i] for i in (0, 2, 3)] == [None, None, None]
        assert time.perf_counter() - started < 25
    finally:
        pool.close()

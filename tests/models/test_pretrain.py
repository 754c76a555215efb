"""The pre-trained tiny target solves its own skills and prefers its own style by far; the
mapper starting point rewrites old skills; the build is cached by its recipe."""

from __future__ import annotations

import json
import time

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from dart.data.synthetic import generate_split
from dart.models.pretrain import MARKER, PretrainRecipe, is_current, pretrain_tiny_models
from dart.models.probe import accuracy, greedy_rewrites, mean_token_logprob
from dart.verify import NumericVerifier

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def target(pretrained):
    torch.set_num_threads(1)
    return (AutoModelForCausalLM.from_pretrained(pretrained.target),
            AutoTokenizer.from_pretrained(pretrained.target))


def test_target_solves_held_out_problems_of_its_own_skills(target):
    model, tokenizer = target
    held_out = generate_split("retention", seed=0, size=200)
    score = accuracy(model, tokenizer, held_out, NumericVerifier())
    print(f"\npre-trained target, held-out native-style old skills: accuracy {score:.3f}")
    assert score >= 0.9


def test_target_finds_its_own_style_far_more_likely(target):
    model, tokenizer = target
    figures = {style: mean_token_logprob(
        model, tokenizer, generate_split("retention", seed=0, size=100, style=style))
        for style in ("native", "expert", "expert-short")}
    print("\nmean per-token log-likelihood under the target (nats/token): "
          + ", ".join(f"{s} {v:.4f}" for s, v in figures.items()))
    assert figures["native"] > figures["expert"] + 1.0
    assert figures["native"] > figures["expert-short"] + 1.0


def test_mapper_rewrites_old_skills_into_the_native_style(pretrained):
    model = AutoModelForCausalLM.from_pretrained(pretrained.mapper)
    tokenizer = AutoTokenizer.from_pretrained(pretrained.mapper)
    native = generate_split("retention", seed=0, size=60, style="native")
    expert = generate_split("retention", seed=0, size=60, style="expert")
    rewrites = greedy_rewrites(model, tokenizer, expert)
    exact = sum(r == n["solution"] for r, n in zip(rewrites, native, strict=True)) / len(native)
    new_skill = generate_split("in-domain", seed=0, size=60, style="expert")
    kept = NumericVerifier().score_many(
        [(r, row["answer"]) for r, row in zip(greedy_rewrites(model, tokenizer, new_skill),
                                              new_skill, strict=True)])
    print(f"\nmapper start: old-skill rewrites identical to native {exact:.3f}; "
          f"new-skill rewrites keeping the answer {sum(kept) / len(kept):.3f}")
    assert exact >= 0.8


def test_markers_make_the_build_reusable(pretrained):
    marker = json.loads((pretrained.target / MARKER).read_text())
    assert marker["fingerprint"] == PretrainRecipe().fingerprint()
    assert is_current(pretrained.mapper, PretrainRecipe())
    assert not is_current(pretrained.target, PretrainRecipe(target_steps=1))
    started = time.perf_counter()
    again = pretrain_tiny_models(pretrained.target.parent, PretrainRecipe(), progress=print)
    assert again == pretrained and time.perf_counter() - started < 5

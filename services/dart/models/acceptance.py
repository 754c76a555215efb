"""The quality gates a pre-trained tiny pair must pass before it is shipped or used.

    from dart.models.acceptance import measure, failed_gates
    figures = measure(target_dir, mapper_dir)      # ~20 s on 2 cores, greedy: deterministic
    assert not failed_gates(figures)

The gates are what the bundled task needs of its models: the target solves its own (old)
skills, so retention is measurable; it finds its own style far more likely than the expert's,
so there is a mismatch to fix; the mapper keeps the answers when it rewrites, so its rewrites
can be gated rather than thrown away.
"""

from __future__ import annotations

from pathlib import Path

ACCEPTANCE = "dart-acceptance.json"
"""File next to the shipped models recording the figures they were accepted on."""

GATES: dict[str, float] = {
    "target_old_skill_accuracy": 0.9,
    "target_style_margin_nats": 1.0,
    "mapper_answers_kept_old_skill": 0.9,
    "mapper_answers_kept_new_skill": 0.9,
}
"""Minimum of every figure `measure` returns."""

HELD_OUT, STYLE_ROWS, REWRITE_ROWS = 200, 100, 48


def measure(target_dir: Path, mapper_dir: Path) -> dict[str, float]:
    """Every figure named in GATES, measured greedily on held-out rows (seed 0)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(min(2, torch.get_num_threads()))
    target = AutoModelForCausalLM.from_pretrained(target_dir).eval()
    target_tokenizer = AutoTokenizer.from_pretrained(target_dir)
    mapper = AutoModelForCausalLM.from_pretrained(mapper_dir).eval()
    mapper_tokenizer = AutoTokenizer.from_pretrained(mapper_dir)
    return {**_target_figures(target, target_tokenizer),
            **_mapper_figures(mapper, mapper_tokenizer)}


def failed_gates(figures: dict[str, float]) -> list[str]:
    """One line per gate the figures miss (empty when all pass)."""
    return [f"{name} is {figures.get(name, float('nan')):.3f}, needs >= {floor}"
            for name, floor in GATES.items() if not figures.get(name, float("-inf")) >= floor]


def _target_figures(model, tokenizer) -> dict[str, float]:
    from dart.data.synthetic import generate_split
    from dart.models.probe import accuracy, mean_token_logprob
    from dart.verify import NumericVerifier

    held_out = generate_split("retention", seed=0, size=HELD_OUT)
    likelihood = {style: mean_token_logprob(
        model, tokenizer, generate_split("retention", seed=0, size=STYLE_ROWS, style=style))
        for style in ("native", "expert", "expert-short")}
    margin = likelihood["native"] - max(likelihood["expert"], likelihood["expert-short"])
    return {"target_old_skill_accuracy": accuracy(model, tokenizer, held_out, NumericVerifier()),
            "target_style_margin_nats": margin}


def _mapper_figures(model, tokenizer) -> dict[str, float]:
    from dart.data.synthetic import generate_split
    from dart.models.probe import greedy_rewrites
    from dart.verify import NumericVerifier

    verifier, figures = NumericVerifier(), {}
    for split, name in (("retention", "old_skill"), ("in-domain", "new_skill")):
        expert = generate_split(split, seed=0, size=REWRITE_ROWS, style="expert")
        rewrites = greedy_rewrites(model, tokenizer, expert)
        kept = verifier.score_many([(w, r["answer"]) for w, r in zip(rewrites, expert,
                                                                     strict=True)])
        figures[f"mapper_answers_kept_{name}"] = sum(kept) / len(kept)
    return figures

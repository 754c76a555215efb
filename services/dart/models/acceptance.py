"""The quality gates pre-trained tiny models must pass before they are shipped or used.

    from dart.models.acceptance import measure_target, measure_mapper, failed_gates
    figures = measure_target(target_dir, "native") | measure_mapper(mapper_dir)
    assert not failed_gates(figures)

The gates are what the bundled task needs of its models: the target solves its own (old)
skill, so retention is measurable; it finds its own style far more likely than the expert's
and than any other member of the repertoire, so there is a mismatch to fix and a style to
find. The mapper keeps the answers when it rewrites, in every member of the repertoire (its
rewrites can be gated rather than thrown away), and has no preference among them, so the
RL stage starts near chance: no member above twice its fair share.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

ACCEPTANCE = "dart-acceptance.json"
"""File next to the shipped models recording the figures they were accepted on."""

TARGET_GATES: dict[str, float] = {
    "target_old_skill_accuracy": 0.9,
    "target_own_style_share": 0.9,
    "target_style_margin_nats": 1.0,
    "target_member_margin_nats": 0.1,
}
MAPPER_GATES: dict[str, float] = {
    "mapper_answers_kept_old_skill": 0.95,
    "mapper_answers_kept_new_skill": 0.95,
    "mapper_answers_kept_worst_style": 0.95,
    "mapper_styles_named": 0.9,
    "mapper_style_balance": 0.5,
}
"""`mapper_style_balance` is the fair share (1/8) over the most frequent member's share:
0.5 means one member is sampled twice as often as it would be without preference."""
GATES = TARGET_GATES | MAPPER_GATES
"""Minimum of every figure the two `measure_*` functions return."""

HELD_OUT, STYLE_ROWS, REWRITE_ROWS, SAMPLES_PER_ROW = 200, 100, 48, 2


def failed_gates(figures: dict[str, float], gates: dict[str, float] = GATES) -> list[str]:
    """One line per gate the figures miss (empty when all pass)."""
    return [f"{name} is {figures.get(name, float('nan')):.3f}, needs >= {floor}"
            for name, floor in gates.items() if not figures.get(name, float("-inf")) >= floor]


def _load(model_dir: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(min(2, torch.get_num_threads()))
    return (AutoModelForCausalLM.from_pretrained(model_dir).eval(),
            AutoTokenizer.from_pretrained(model_dir))


def measure_target(target_dir: Path, style: str) -> dict[str, float]:
    """The target's figures, greedy on held-out rows (seed 0): deterministic."""
    from dart.data.synthetic import generate_split
    from dart.data.synthetic.repertoire import REPERTOIRE, style_of
    from dart.models.probe import greedy_solutions, mean_token_logprob
    from dart.verify import NumericVerifier

    model, tokenizer = _load(target_dir)
    held_out = generate_split("retention", seed=0, size=HELD_OUT)
    solutions = greedy_solutions(model, tokenizer, [r["question"] for r in held_out])
    kept = NumericVerifier().score_many([(s, r["answer"]) for s, r in zip(solutions, held_out,
                                                                          strict=True)])
    likelihood = {other: mean_token_logprob(model, tokenizer, generate_split(
        "retention", seed=0, size=STYLE_ROWS, style=other))
        for other in (*REPERTOIRE, "expert", "expert-short")}
    own = likelihood.pop(style)
    members = [v for k, v in likelihood.items() if k in REPERTOIRE]
    return {"target_old_skill_accuracy": sum(kept) / len(kept),
            "target_own_style_share": sum(style_of(s) == style for s in solutions) / HELD_OUT,
            "target_style_margin_nats": own - max(likelihood["expert"],
                                                  likelihood["expert-short"]),
            "target_member_margin_nats": own - max(members)}


def measure_mapper(mapper_dir: Path) -> dict[str, float]:
    """The mapper's figures on sampled rewrites (temperature 1, seeded) of held-out expert
    solutions of both skills, in both expert styles."""
    import torch

    from dart.data.synthetic.repertoire import REPERTOIRE

    model, tokenizer = _load(mapper_dir)
    torch.manual_seed(0)
    figures, samples = {}, []
    for split, name in (("retention", "old_skill"), ("in-domain", "new_skill")):
        skill = sampled_rewrites(model, tokenizer, split)
        figures[f"mapper_answers_kept_{name}"] = sum(k for _, k in skill) / len(skill)
        samples += skill
    shares = Counter(style for style, _ in samples)
    kept = {s: [k for style, k in samples if style == s] for s in REPERTOIRE}
    figures["mapper_answers_kept_worst_style"] = min(
        sum(k) / len(k) if k else 0.0 for k in kept.values())
    figures["mapper_styles_named"] = 1 - shares[None] / len(samples)
    figures["mapper_style_balance"] = (len(samples) / len(REPERTOIRE)) / max(
        shares[s] for s in REPERTOIRE)
    figures |= {f"mapper_share_{s}": shares[s] / len(samples) for s in REPERTOIRE}
    return figures


def sampled_rewrites(model, tokenizer, split: str) -> list[tuple[str | None, bool]]:
    """(member written, answer kept) for SAMPLES_PER_ROW rewrites of each of REWRITE_ROWS
    rows of `split`, in each expert style."""
    from dart.data.synthetic import generate_split
    from dart.data.synthetic.repertoire import style_of
    from dart.data.synthetic.styles import EXPERT_STYLES
    from dart.models.probe import complete
    from dart.prompts import mapper_prompt
    from dart.verify import NumericVerifier

    rows = [row for expert in EXPERT_STYLES
            for row in generate_split(split, seed=0, size=REWRITE_ROWS, style=expert)
            for _ in range(SAMPLES_PER_ROW)]
    texts = complete(model, tokenizer, [mapper_prompt(tokenizer, r["question"], r["solution"])
                                        for r in rows], sample=True)
    kept = NumericVerifier().score_many([(t, r["answer"]) for t, r in zip(texts, rows,
                                                                          strict=True)])
    return [(style_of(t), k) for t, k in zip(texts, kept, strict=True)]

"""The quality gates the pre-trained tiny models must pass before they are shipped or used.

    from dart.models.acceptance import measure, failed_gates
    figures = measure(paths)       # ~1 min on 2 cores; greedy, and sampled from a fixed seed
    assert not failed_gates(figures)

The gates are what the bundled task needs of its models: each target solves its own (old)
skill, so retention is measurable; it finds its own member of the repertoire far more likely
than the expert's styles (a mismatch to fix) and more likely than any other member (a style
to find); the mapper keeps the answers when it rewrites, so its rewrites can be gated rather
than thrown away, and it writes members of the repertoire with no preference among them, so
that whatever it ends up preferring was learnt from its target's reward.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

ACCEPTANCE = "dart-acceptance.json"
"""File next to the shipped models recording the figures they were accepted on."""

GATES: dict[str, float] = {
    "target_old_skill_accuracy": 0.9,
    "target_style_margin_nats": 1.0,
    "target_member_margin_nats": 0.3,
    "mapper_answers_kept_old_skill": 0.9,
    "mapper_answers_kept_new_skill": 0.75,
    # Sampled at T=1 the general mapper recomposes some subtraction result lines wrongly
    # (=122 for 128: BENCHMARKS.md); the reward's answer gate teaches the rest.
    "mapper_sampled_answers_kept": 0.85,
    "mapper_sampled_in_repertoire": 0.9,
    "mapper_style_balance": 0.5,
}
"""Minimum of every figure `measure` returns; a target's figures are named `GATE:STYLE`."""

HELD_OUT, STYLE_ROWS, REWRITE_ROWS, SAMPLED_ROWS = 200, 100, 48, 192


def measure(paths) -> dict[str, float]:
    """Every figure GATES names, for every target of `paths` (TinyModelPaths) and its mapper,
    on held-out rows (seed 0)."""
    import torch

    torch.set_num_threads(min(2, torch.get_num_threads()))
    figures = {}
    for style in paths.styles:
        model, tokenizer = _load(paths.target_for(style))
        figures |= {f"{name}:{style}": value
                    for name, value in _target_figures(model, tokenizer, style).items()}
    return figures | _mapper_figures(*_load(paths.mapper))


def failed_gates(figures: dict[str, float]) -> list[str]:
    """One line per figure below its gate, or per gate no figure measured (empty: all pass)."""
    misses = [f"{name} is {value:.3f}, needs >= {GATES[name.split(':')[0]]}"
              for name, value in figures.items() if not value >= GATES[name.split(":")[0]]]
    measured = {name.split(":")[0] for name in figures}
    return misses + [f"{gate} was not measured" for gate in GATES if gate not in measured]


def _load(folder: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(
        folder)


def _target_figures(model, tokenizer, style: str) -> dict[str, float]:
    from dart.data.synthetic import generate_split
    from dart.data.synthetic.repertoire import REPERTOIRE
    from dart.models.probe import accuracy, mean_token_logprob
    from dart.verify import NumericVerifier

    held_out = generate_split("retention", seed=0, size=HELD_OUT)
    likelihood = {other: mean_token_logprob(
        model, tokenizer, generate_split("retention", seed=0, size=STYLE_ROWS, style=other))
        for other in ("expert", "expert-short", *REPERTOIRE)}
    own = likelihood.pop(style)
    experts = max(likelihood.pop("expert"), likelihood.pop("expert-short"))
    return {"target_old_skill_accuracy": accuracy(model, tokenizer, held_out, NumericVerifier()),
            "target_style_margin_nats": own - experts,
            "target_member_margin_nats": own - max(likelihood.values())}


def _mapper_figures(model, tokenizer) -> dict[str, float]:
    import torch

    from dart.data.synthetic import generate_split
    from dart.data.synthetic.repertoire import REPERTOIRE, style_of
    from dart.models.probe import complete, greedy_rewrites
    from dart.prompts import mapper_prompt

    figures = {}
    for split, name in (("retention", "old_skill"), ("in-domain", "new_skill")):
        expert = generate_split(split, seed=0, size=REWRITE_ROWS, style="expert")
        figures[f"mapper_answers_kept_{name}"] = _kept(greedy_rewrites(model, tokenizer, expert),
                                                       expert)
    rows = [row for split in ("retention", "in-domain") for style in ("expert", "expert-short")
            for row in generate_split(split, seed=1, size=SAMPLED_ROWS // 4, style=style)]
    torch.manual_seed(0)  # sampled, yet the same figures on every measurement
    samples = complete(model, tokenizer, [mapper_prompt(tokenizer, r["question"], r["solution"])
                                          for r in rows], sample=True, temperature=1.0)
    figures["mapper_sampled_answers_kept"] = _kept(samples, rows)
    members = Counter(style_of(s) for s in samples)
    figures["mapper_sampled_in_repertoire"] = 1 - members.pop(None, 0) / len(samples)
    fair = sum(members.values()) / len(REPERTOIRE)  # 0 when no sample is a member
    figures["mapper_style_balance"] = fair / max(members.values()) if members else 0.0
    return figures


def _kept(rewrites: list[str], rows: list[dict]) -> float:
    from dart.verify import NumericVerifier

    kept = NumericVerifier().score_many([(w, r["answer"]) for w, r in zip(rewrites, rows,
                                                                          strict=True)])
    return sum(kept) / len(kept)

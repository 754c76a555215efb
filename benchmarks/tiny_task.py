"""Measure the pre-trained tiny models on the synthetic task (for examples/synthetic-task.md).

    python benchmarks/tiny_task.py --models tiny-models [--json out.json]

Prints: the target's greedy accuracy on every split; its mean per-token log-likelihood of each
solution style (the mismatch DART fixes); and the mapper starting point's rewrites, greedy and
sampled at temperature 1 (how often they keep the answer, take the native line shape, and how
many distinct rewrites a GRPO group of 8 gets: the diversity the learner needs).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from dart.data.synthetic import EVAL_SPLITS, STYLES, generate_split
from dart.models.probe import accuracy, complete, greedy_rewrites, mean_token_logprob
from dart.prompts import mapper_prompt
from dart.verify import NumericVerifier

NATIVE_LINE = re.compile(r"^\d[+-]\d[+-]\d=\d c\d$", re.MULTILINE)


def target_figures(path: Path, size: int) -> dict:
    """Accuracy per split and log-likelihood per style, for the pre-trained target."""
    model, tokenizer = _load(path)
    verifier = NumericVerifier()
    figures = {f"accuracy/{s}": accuracy(model, tokenizer, generate_split(s, size=size), verifier)
               for s in EVAL_SPLITS}
    for split in ("retention", "in-domain"):
        for style in STYLES:
            rows = generate_split(split, size=min(size, 100), style=style)
            figures[f"logprob/{split}/{style}"] = mean_token_logprob(model, tokenizer, rows)
    return figures


def mapper_figures(path: Path, size: int, group: int = 8) -> dict:
    """The mapper starting point on old-skill and new-skill expert demonstrations."""
    model, tokenizer = _load(path)
    figures = {}
    for split in ("retention", "in-domain"):
        rows = generate_split(split, size=size, style="expert")
        figures |= _rewrite_quality(f"greedy/{split}", greedy_rewrites(model, tokenizer, rows),
                                    rows)
        prompts = [mapper_prompt(tokenizer, r["question"], r["solution"]) for r in rows[:16]]
        samples = complete(model, tokenizer, [p for p in prompts for _ in range(group)],
                           sample=True)
        groups = [samples[i:i + group] for i in range(0, len(samples), group)]
        figures[f"sampled/{split}/distinct_per_group_of_{group}"] = (
            sum(len(set(g)) for g in groups) / len(groups))
        figures |= _rewrite_quality(f"sampled/{split}", samples,
                                    [r for r in rows[:16] for _ in range(group)])
    return figures


def _rewrite_quality(prefix: str, rewrites: list[str], rows: list[dict]) -> dict:
    kept = NumericVerifier().score_many([(w, r["answer"]) for w, r in zip(rewrites, rows,
                                                                          strict=True)])
    native_shape = [bool(NATIVE_LINE.search(w)) and "\\boxed" not in w for w in rewrites]
    return {f"{prefix}/answer_kept": sum(kept) / len(kept),
            f"{prefix}/native_shape": sum(native_shape) / len(native_shape)}


def _load(path: Path):
    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path("tiny-models"))
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    figures = target_figures(args.models / "target", args.size)
    figures |= mapper_figures(args.models / "mapper", min(args.size, 64))
    for name, value in figures.items():
        print(f"{name:55s} {value:9.4f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

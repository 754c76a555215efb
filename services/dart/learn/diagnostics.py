"""What a step's rollouts say beyond their reward: is there anything for GRPO to learn from,
and (on the synthetic task) how much of the target's style has the mapper found?

    group_diversity(texts, totals, group_size)  # distinct rewrites per group, flat groups
    style_stats(texts, "native")                # share in the target's style, per feature

A group whose rewards are all equal has zero advantage everywhere: it teaches nothing
(DESIGN.md: a converged model samples identical completions). Their fraction, and the number
of distinct rewrites per group, say whether the learner has signal at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from dart.data.synthetic.repertoire import style_share


def group_diversity(texts: Sequence[str], totals: Sequence[float],
                    group_size: int) -> dict[str, float]:
    """Mean distinct texts per group, and the fraction of groups with one reward value."""
    starts = range(0, len(texts), group_size)
    distinct = [len(set(texts[i:i + group_size])) for i in starts]
    flat = [max(totals[i:i + group_size]) - min(totals[i:i + group_size]) < 1e-9 for i in starts]
    n = max(len(distinct), 1)
    return {"distinct_rewrites_per_group": sum(distinct) / n,
            "zero_variance_groups": sum(flat) / n}


def style_stats(texts: Sequence[str], target_style: str) -> dict:
    """Share of rewrites written in the target's style, and per feature of that style."""
    shares = style_share(list(texts), target_style)
    return {"style_share": shares.pop("style"), "style_features": shares}

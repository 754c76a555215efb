"""The headline figure: the fraction of the oracle gap DART recovers.

    gap = (dart - sft-original) / (sft-oracle - sft-original)

per evaluation set and per seed (seed i of every arm is the same SFT seed), then the mean and
sample std over the seeds where it is defined. It is undefined when the oracle is not ahead
of sft-original: there is no gap to recover. 1 means DART's data is as good as the native
style; 0, no better than the data as given; below 0, worse.
"""

from __future__ import annotations

import statistics

ARMS = ("dart", "sft-original", "sft-oracle")


def gap_fraction(dart: float, original: float, oracle: float) -> float | None:
    if oracle <= original:
        return None
    return (dart - original) / (oracle - original)


def oracle_gap(models: dict[str, dict[str, dict]]) -> dict[str, dict] | None:
    """{set: {"seeds": [gap or None per seed], "mean", "std", "defined"}}, or None when the
    run lacks one of the three arms. Seeds are paired by index (seed i of every arm trained
    with sft.seed + i); an arm with fewer finished seeds limits the pairs."""
    if not all(arm in models for arm in ARMS):
        return None
    gaps = {}
    for name in models["dart"]:
        per_seed = [gap_fraction(*accuracies) for accuracies in
                    zip(*(models[arm][name]["seeds"] for arm in ARMS), strict=False)]
        defined = [g for g in per_seed if g is not None]
        gaps[name] = {
            "seeds": per_seed, "defined": len(defined),
            "mean": statistics.fmean(defined) if defined else None,
            "std": statistics.stdev(defined) if len(defined) > 1 else (0.0 if defined else None),
        }
    return gaps

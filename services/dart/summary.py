"""The run's findings in a few numbers: per arm and set the accuracy over seeds, the
fraction of the oracle gap DART recovers (the headline), and the verdict against plain SFT.

    gap = (dart - sft-original) / (sft-oracle - sft-original)

per evaluation set and per seed (seed i of every arm is the same SFT seed), then the mean and
sample std over the seeds where it is defined. It is undefined when the oracle is not ahead
of sft-original: there is no gap to recover. 1 means DART's data is as good as the native
style; 0, no better than the data as given; below 0, worse.

Pure functions of results.json's `models`; the one summary `dart run` writes into
evaluate/results.json and the operator puts in the DartRun's status (dart.config.status).
"""

from __future__ import annotations

import statistics

from dart.config.status import GapScore, ResultsSummary, SetScore

GAP_ARMS = ("dart", "sft-original", "sft-oracle")
ORIGINAL = "sft-original"
DIGITS = 4  # a status holds the summary: enough precision, few bytes


def gap_fraction(dart: float, original: float, oracle: float) -> float | None:
    if oracle <= original:
        return None
    return (dart - original) / (oracle - original)


def oracle_gap(models: dict[str, dict[str, dict]]) -> dict[str, dict] | None:
    """{set: {"seeds": [gap or None per seed], "mean", "std", "defined"}}, or None when the
    run lacks one of the three arms. Seeds are paired by index (seed i of every arm trained
    with sft.seed + i); an arm with fewer finished seeds limits the pairs."""
    if not all(arm in models for arm in GAP_ARMS):
        return None
    gaps = {}
    for name in models["dart"]:
        per_seed = [gap_fraction(*accuracies) for accuracies in
                    zip(*(models[arm][name]["seeds"] for arm in GAP_ARMS), strict=False)]
        defined = [g for g in per_seed if g is not None]
        gaps[name] = {
            "seeds": per_seed, "defined": len(defined),
            "mean": statistics.fmean(defined) if defined else None,
            "std": statistics.stdev(defined) if len(defined) > 1 else None,
        }
    return gaps


def gap_figure(gap: dict, digits: int = 3) -> str:
    """`0.812 ± 0.040`, or, when one seed alone defines it, the value and why no spread
    (a spread of one value would read as certainty)."""
    mean = f"{gap['mean']:.{digits}f}"
    if gap["std"] is not None:
        return f"{mean} ± {gap['std']:.{digits}f}"
    return f"{mean} (only {gap['defined']} of {len(gap['seeds'])} seeds define it: no spread)"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS)


def headline(gaps: dict[str, dict] | None) -> str:
    if gaps is None:
        return "oracle gap not measured (needs the dart, sft-original and sft-oracle arms)"
    parts = [f"{name} undefined" if g["mean"] is None else f"{name} {gap_figure(g, 2)}"
             for name, g in gaps.items()]
    return "oracle gap recovered: " + ", ".join(parts)


def versus_plain_sft(dart: dict, original: dict) -> tuple[str, float, float, int]:
    """How DART compares with plain SFT on one set: (word, delta, spread, seeds).

    word is "ahead of" or "behind" when the difference exceeds twice the seed spread (the
    larger sample std of the two arms), "within the seed spread of" when it does not,
    "level with" for identical scores; with one seed there is no spread to compare with."""
    delta = dart["accuracy"] - original["accuracy"]
    spread = max(dart.get("std", 0.0), original.get("std", 0.0))
    seeds = min(len(dart.get("seeds", [0])), len(original.get("seeds", [0])))
    if delta == 0:
        return "level with", delta, spread, seeds
    if seeds >= 2 and abs(delta) <= 2 * spread:
        return "within the seed spread of", delta, spread, seeds
    return ("ahead of" if delta > 0 else "behind"), delta, spread, seeds


def verdict(models: dict[str, dict[str, dict]]) -> str:
    """Did DART beat plain SFT? Per set, from the measured accuracies, whatever they show."""
    if "dart" not in models or ORIGINAL not in models:
        return "DART vs plain SFT not measured (needs the dart and sft-original arms)"
    parts = []
    for name, dart in models["dart"].items():
        word, delta, _, _ = versus_plain_sft(dart, models[ORIGINAL][name])
        figure = f"both {dart['accuracy']:.3f}" if word == "level with" else f"{delta:+.3f}"
        parts.append(f"{word} plain SFT on {name} ({figure})")
    return "DART is " + ", ".join(parts)


def summarize(models: dict[str, dict[str, dict]]) -> ResultsSummary:
    """The summary of results.json's `models` (arm -> set -> accuracy, std, seeds)."""
    gaps = oracle_gap(models)
    arms = {arm: {name: SetScore(mean=_round(s["accuracy"]), std=_round(s["std"]),
                                 seeds=[_round(a) for a in s["seeds"]])
                  for name, s in sets.items()} for arm, sets in models.items()}
    gap_scores = None if gaps is None else {
        name: GapScore(mean=_round(g["mean"]), std=_round(g["std"]),
                       seeds=[_round(v) for v in g["seeds"]]) for name, g in gaps.items()}
    return ResultsSummary(arms=arms, oracle_gap=gap_scores, headline=headline(gaps),
                          verdict=verdict(models))

"""The report's comparison sections, each a list of Markdown lines built from results.json."""

from __future__ import annotations

from dart.arms import DART, is_adapted
from dart.report.oracle_gap import oracle_gap
from dart.summary import gap_figure, versus_plain_sft

ORIGINAL = "sft-original"


def _accuracy_cell(score: dict) -> str:
    if len(score.get("seeds", [0])) <= 1:
        return f"{score['accuracy']:.3f} ({score['correct']}/{score['n']})"
    return f"{score['accuracy']:.3f} ± {score['std']:.3f} ({len(score['seeds'])} seeds)"


def results_table(models: dict[str, dict[str, dict]]) -> list[str]:
    """Accuracy per arm and set: the mean over seeds ± their sample std."""
    sets = list(next(iter(models.values())))
    lines = ["| arm | " + " | ".join(sets) + " |", "|---|" + "---|" * len(sets)]
    for model, scores in models.items():
        lines.append(f"| {model} | " + " | ".join(_accuracy_cell(scores[s]) for s in sets) + " |")
    return lines


def _seed_list(values: list[float | None]) -> str:
    return ", ".join("undefined" if v is None else f"{v:.3f}" for v in values)


def undefined_gap_reason(models: dict[str, dict[str, dict]], name: str) -> str:
    """Why there is no gap to recover on one set, in one sentence."""
    oracle, original = models["sft-oracle"][name], models[ORIGINAL][name]
    if oracle["accuracy"] == 0 and original["accuracy"] == 0:
        return ("neither sft-oracle nor sft-original solved any problem of this set, so there "
                "is no gap to recover at this budget")
    return "sft-oracle is not ahead of sft-original on any seed, so there is no gap to recover"


def oracle_gap_lines(models: dict[str, dict[str, dict]]) -> list[str]:
    """The headline: per set, the fraction of the oracle gap DART recovers, with its spread."""
    gaps = oracle_gap(models)
    if gaps is None:
        return ["Oracle gap: not measured (needs the dart, sft-original and sft-oracle arms)."]
    lines = ["Fraction of the oracle gap DART recovers, (dart - sft-original) / "
             "(sft-oracle - sft-original), per seed, then mean ± sample std over the seeds "
             "where the oracle is ahead:", ""]
    for name, gap in gaps.items():
        means = " vs ".join(f"{arm} {models[arm][name]['accuracy']:.3f}"
                            for arm in ("dart", ORIGINAL, "sft-oracle"))
        if gap["mean"] is None:
            lines.append(f"- **{name}**: undefined: {undefined_gap_reason(models, name)} "
                         f"({means}).")
            continue
        lines.append(f"- **{name}**: DART recovers {gap_figure(gap)} of the "
                     f"oracle gap (per seed: {_seed_list(gap['seeds'])}; {means}).")
    return lines


def compare_to_plain_sft(dart: dict, original: dict) -> str:
    """One sentence: is DART ahead of plain SFT on one set, beyond the seed spread?"""
    word, delta, spread, seeds = versus_plain_sft(dart, original)
    pair = f"{dart['accuracy']:.3f} vs {original['accuracy']:.3f}"
    if word == "level with":
        return f"DART and plain SFT score the same ({pair})."
    if seeds < 2:
        return f"DART is {word} plain SFT by {delta:+.3f} ({pair}; one seed, no spread known)."
    if word == "within the seed spread of":
        return (f"DART is within twice the seed spread of plain SFT ({delta:+.3f}, spread "
                f"{spread:.3f}; {pair}): not a measured difference.")
    return (f"DART is {word} plain SFT by {delta:+.3f}, more than twice the seed spread "
            f"({spread:.3f}; {pair}).")


def verdict(models: dict[str, dict[str, dict]]) -> list[str]:
    """Did DART beat plain SFT? Per set, from the measured accuracies, whatever they show."""
    if "dart" not in models or ORIGINAL not in models:
        return ["DART vs plain SFT: not measured (needs both the dart and sft-original arms)."]
    return [f"- **{name}**: {compare_to_plain_sft(dart, models[ORIGINAL][name])}"
            for name, dart in models["dart"].items()]


def costs_table(costs: dict[str, dict]) -> list[str]:
    lines = ["| arm | wall s | tokens generated | tokens trained (SFT) | tokens trained (RL) "
             "| FLOPs |", "|---|---|---|---|---|---|"]
    for arm, c in costs.items():
        lines.append(f"| {arm} | {c['wall_seconds']:.1f} | {c['tokens_generated']} | "
                     f"{c['tokens_trained_sft']} | {c['tokens_trained_rl']} | {c['flops']:.2e} |")
    params = next(iter(costs.values()))["params"] if costs else 0
    return lines + ["", f"FLOPs = 6·P·(tokens trained) + 2·P·(tokens generated), P = {params} "
                    "target parameters; wall time is learn + synthesize + one SFT run (seed 0)."]


def matched_compute(models: dict[str, dict[str, dict]], costs: dict[str, dict],
                    curves: dict[str, list[dict]] | None = None) -> list[str]:
    """DART vs direct-rl: accuracy per set beside the compute each spent, then DART's curve
    read at direct-rl's total compute."""
    if "direct-rl" not in models or "dart" not in costs:
        return ["DART vs direct-rl: not measured (add direct-rl to compare.arms)."]
    dart_flops, rl_flops = costs["dart"]["flops"], costs["direct-rl"]["flops"]
    ratio = f"{dart_flops / rl_flops:.2f}x" if rl_flops else "n/a"
    lines = [f"Same RL rollout budget; DART spent {dart_flops:.2e} FLOPs, direct-rl "
             f"{rl_flops:.2e} (DART / direct-rl = {ratio}).", ""]
    for name, dart in models["dart"].items():
        delta = dart["accuracy"] - models["direct-rl"][name]["accuracy"]
        lines.append(f"- **{name}**: dart {dart['accuracy']:.3f} vs direct-rl "
                     f"{models['direct-rl'][name]['accuracy']:.3f} ({delta:+.3f}).")
    return lines + _at_matched_compute((curves or {}).get("dart", []), models, rl_flops)


def _at_matched_compute(curve: list[dict], models: dict, budget: float) -> list[str]:
    reached = [p for p in curve if "flops" in p and p["flops"] <= budget]
    if not curve or "flops" not in curve[0]:
        return []
    if not reached:
        return ["", f"At matched compute: DART's data alone ({curve[0]['flops']:.2e} FLOPs) "
                f"cost more than direct-rl's whole run ({budget:.2e})."]
    point = reached[-1]
    cells = ", ".join(f"{name} {acc:.3f} vs {models['direct-rl'][name]['accuracy']:.3f}"
                      for name, acc in point["accuracy"].items())
    return ["", f"At matched compute ({budget:.2e} FLOPs), DART's first seed was at SFT step "
            f"{point['step']}: {cells} (dart vs direct-rl)."]


def at_mapper_tokens(models: dict[str, dict[str, dict]], costs: dict[str, dict]) -> list[str]:
    """DART beside every other arm whose data a mapper wrote, each at the tokens its mapper
    generated (learn + synthesis): best-of-N selection buys its gain with samples, so DART is
    read against the untrained arms that spent at least as many."""
    adapted = sorted((arm for arm in costs if is_adapted(arm) and arm in models),
                     key=lambda arm: costs[arm]["tokens_generated"])
    if DART not in adapted or len(adapted) < 2:
        return ["Not measured: needs an ablation beside dart (no-rl, grape, grape-kN)."]
    own = costs[DART]["tokens_generated"]
    if not own:
        return ["Not measured: DART's learn and synthesis outputs recorded no generated tokens."]
    sets = list(models[DART])
    lines = ["| arm | mapper tokens | x dart's | " + " | ".join(sets) + " |",
             "|---|---|---|" + "---|" * len(sets)]
    for arm in adapted:
        tokens = costs[arm]["tokens_generated"]
        lines.append(f"| {arm} | {tokens} | {tokens / own:.2f} | "
                     + " | ".join(_accuracy_cell(models[arm][s]) for s in sets) + " |")
    rivals = [arm for arm in adapted if arm != DART and costs[arm]["tokens_generated"] >= own]
    if not rivals:
        return lines + ["", "No other arm generated as many mapper tokens as DART: add "
                        "grape-kN with a larger N to compare at equal tokens."]
    return lines + [""] + [_versus_at_tokens(models, arm, costs[arm]["tokens_generated"] / own)
                           for arm in rivals]


_STANDING = {"ahead of": "ahead", "behind": "behind", "level with": "level",
             "within the seed spread of": "within twice the seed spread"}


def _versus_at_tokens(models: dict[str, dict[str, dict]], arm: str, ratio: float) -> str:
    cells = []
    for name, dart in models[DART].items():
        word, delta, spread, seeds = versus_plain_sft(dart, models[arm][name])
        cells.append(f"{name} {_STANDING[word]} ({delta:+.3f}"
                     + (f", spread {spread:.3f})" if seeds >= 2 else ", one seed)"))
    return f"- DART against **{arm}** ({ratio:.2f}x DART's mapper tokens): " + "; ".join(cells)

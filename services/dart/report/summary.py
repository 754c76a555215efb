"""The few lines `dart run` prints when it finishes: accuracy per arm and set, the verdict
in words and the oracle-gap headline, all read from evaluate/results.json (as report.md is)."""

from __future__ import annotations

from pathlib import Path

from dart.report.oracle_gap import oracle_gap
from dart.report.sections import ORIGINAL, compare_to_plain_sft, undefined_gap_reason
from dart.summary import gap_figure


def _cell(score: dict) -> str:
    if len(score.get("seeds", [0])) > 1:
        return f"{score['accuracy']:.3f} ± {score['std']:.3f}"
    return f"{score['accuracy']:.3f}"


def accuracy_table(models: dict[str, dict[str, dict]]) -> list[str]:
    """Arms as rows, evaluation sets as columns, mean ± std over seeds; fixed-width text."""
    sets = list(next(iter(models.values())))
    rows = [["arm", *sets]] + [[arm, *(_cell(scores[s]) for s in sets)]
                               for arm, scores in models.items()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def verdict_lines(models: dict[str, dict[str, dict]]) -> list[str]:
    """Per set: DART against plain SFT, then the share of the oracle gap recovered."""
    if "dart" not in models or ORIGINAL not in models:
        return ["DART vs plain SFT: not measured (needs the dart and sft-original arms)."]
    gaps = oracle_gap(models) or {}
    lines = []
    for name, dart in models["dart"].items():
        lines.append(f"{name}: {compare_to_plain_sft(dart, models[ORIGINAL][name])}")
        gap = gaps.get(name)
        if gap is not None and gap["mean"] is not None:
            lines.append(f"  oracle gap recovered: {gap_figure(gap, 2)}")
        elif gap is not None:
            lines.append(f"  oracle gap: undefined, {undefined_gap_reason(models, name)}.")
    return lines


def terminal_summary(results: dict, report: Path) -> str:
    """The end-of-run text: table, verdicts, where the full report is."""
    models = results["models"]
    lines = ["", "Accuracy (mean ± std over SFT seeds):", "",
             *("  " + line for line in accuracy_table(models)), "", *verdict_lines(models), "",
             f"report: {report}"]
    return "\n".join(lines)

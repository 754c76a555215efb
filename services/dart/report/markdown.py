"""report.md from a run's own artifacts: every number in it is read from a JSON file
(evaluate/results.json for the comparison, learn/ and synthesize/ outputs for the rest)."""

from __future__ import annotations

import json
from pathlib import Path

from dart.artifacts import Artifacts, atomic_write_text
from dart.artifacts import read_json as artifacts_json
from dart.report.hacking import reward_hacking
from dart.report.oracle_gap import oracle_gap
from dart.report.plots import (
    accuracy_bars,
    accuracy_curves,
    learning_curves,
    oracle_gap_bars,
    style_share_curve,
)
from dart.report.sections import (
    at_mapper_tokens,
    costs_table,
    matched_compute,
    oracle_gap_lines,
    results_table,
    verdict,
)
from dart.report.text import read_json, read_jsonl, side_by_side

EXAMPLE_REWRITES = 3


def rewrite_examples(adapted: list[dict]) -> list[str]:
    lines = []
    rewritten = [r for r in adapted if r["provenance"]["outcome"] == "rewritten"]
    for row in rewritten[:EXAMPLE_REWRITES]:
        gain = row["provenance"]["chosen_reward"]["alignment"]
        heading = f"**{row['question']}** (alignment gain {gain:+.2f} nats/token)"
        lines += side_by_side(heading, row["provenance"]["original_solution"], row["solution"],
                              "DART rewrite")
    return lines or ["No demonstration was rewritten (every one kept its original)."]


def comparison(results: dict, figures: Path) -> list[str]:
    """Headline, accuracy table, DART vs plain SFT and vs direct-rl, costs, curves."""
    models, costs = results["models"], results.get("costs", {})
    lines = ["## Headline: the oracle gap", "", *oracle_gap_lines(models)]
    gaps = oracle_gap(models)
    if gaps:
        lines += ["", f"![oracle gap]({oracle_gap_bars(gaps, figures / 'oracle_gap.png').name})"]
    lines += ["", "## Results (accuracy)", "", *results_table(models), "", *verdict(models), "",
              f"![accuracy]({accuracy_bars(models, figures / 'accuracy.png').name})", "",
              "## DART vs direct-rl", "",
              *matched_compute(models, costs, results.get("curves"))]
    if costs:
        lines += ["", "## Costs per arm", "", *costs_table(costs),
                  "", "## DART against its ablations at the mapper's tokens", "",
                  *at_mapper_tokens(models, costs)]
    if results.get("curves"):
        curves = accuracy_curves(results["curves"], figures / "curves.png")
        lines += ["", "## Accuracy against steps and tokens (first seed)", "",
                  f"![accuracy curves]({curves.name})"]
    return lines


def _learning(history: list[dict], figures: Path) -> list[str]:
    if not history:
        return []
    curves = learning_curves(history, figures / "learning.png")
    last = history[-1]
    return ["", "## Learning the mapper", "",
            f"{last['step']} GRPO steps; last step: reward {last['reward_mean']:.3f}, "
            f"alignment gain {last['components']['alignment']:.3f} nats/token, "
            f"answer preservation {last['answer_preservation']:.2f}.", "",
            f"![learning curves]({curves.name})"] + _style_learnt(history, figures)


def _style_learnt(history: list[dict], figures: Path) -> list[str]:
    """The share of rewrites in the target's style, first and last step, and its curve."""
    if "style_share" not in history[0]:
        return []
    curve = style_share_curve(history, figures / "style.png")
    first, last = history[0], history[-1]
    features = ", ".join(f"{name} {first['style_features'][name]:.2f} -> {share:.2f}"
                         for name, share in last["style_features"].items())
    return ["", "### What the mapper learnt about its target", "",
            f"Share of rewrites written in the target's style: {first['style_share']:.2f} at "
            f"step {first['step']}, {last['style_share']:.2f} at step {last['step']} "
            f"(per feature: {features}).", "", f"![style share]({curve.name})"]


def write_report(artifacts: Path) -> Path:
    layout = Artifacts(artifacts)
    results = artifacts_json(layout.results)
    adapted = read_jsonl(layout.synthesize().dataset)
    summary = read_json(layout.synthesize().summary)
    figures = layout.report_dir
    figures.mkdir(parents=True, exist_ok=True)
    lines = ["# DART run report", "", *comparison(results, figures)]
    lines += _learning(read_jsonl(layout.learn().history), figures)
    lines += reward_hacking(artifacts)
    if summary:
        lines += ["", "## Adapted dataset", "", "```json", json.dumps(summary, indent=2), "```"]
    lines += ["", "## Example rewrites", "", *rewrite_examples(adapted)]
    return atomic_write_text(layout.report, "\n".join(lines) + "\n")

"""report.md from a run's own artifacts: every number in it is read from a JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from dart.report.plots import accuracy_bars, learning_curves

EXAMPLE_REWRITES = 3


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def results_table(models: dict[str, dict[str, dict]]) -> list[str]:
    sets = list(next(iter(models.values())))
    lines = ["| model | " + " | ".join(sets) + " |", "|---|" + "---|" * len(sets)]
    for model, scores in models.items():
        cells = [f"{scores[s]['accuracy']:.3f} ({scores[s]['correct']}/{scores[s]['n']})"
                 for s in sets]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return lines


def verdict(models: dict[str, dict[str, dict]]) -> list[str]:
    """Did DART beat plain SFT? Per set, from the measured accuracies, whatever they show."""
    if "dart" not in models or "baseline" not in models:
        return ["DART vs plain SFT: not measured (needs both the dart and baseline arms)."]
    lines = []
    for name, dart in models["dart"].items():
        delta = dart["accuracy"] - models["baseline"][name]["accuracy"]
        word = "ahead of" if delta > 0 else ("level with" if delta == 0 else "behind")
        lines.append(f"- **{name}**: DART is {word} plain SFT by {delta:+.3f} "
                     f"({dart['accuracy']:.3f} vs {models['baseline'][name]['accuracy']:.3f}).")
    return lines


def rewrite_examples(adapted: list[dict]) -> list[str]:
    lines = []
    rewritten = [r for r in adapted if r["provenance"]["outcome"] == "rewritten"]
    for row in rewritten[:EXAMPLE_REWRITES]:
        gain = row["provenance"]["chosen_reward"]["alignment"]
        lines += [f"**{row['question']}** (alignment gain {gain:+.2f} nats/token)", "",
                  "| expert (original) | DART rewrite |", "|---|---|",
                  f"| {_cell(row['provenance']['original_solution'])} | {_cell(row['solution'])} |",
                  ""]
    return lines or ["No demonstration was rewritten (every one kept its original)."]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def write_report(artifacts: Path) -> Path:
    results = json.loads((artifacts / "evaluate/results.json").read_text())
    history = _read_jsonl(artifacts / "learn/history.jsonl")
    adapted = _read_jsonl(artifacts / "synthesize/adapted.jsonl")
    summary_file = artifacts / "synthesize/summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    figures = artifacts / "report"
    lines = ["# DART run report", "", "## Results (accuracy)", ""]
    lines += results_table(results["models"]) + ["", *verdict(results["models"]), ""]
    lines += [f"![accuracy]({accuracy_bars(results['models'], figures / 'accuracy.png').name})"]
    if history:
        curves = learning_curves(history, figures / "learning.png")
        last = history[-1]
        lines += ["", "## Learning the mapper", "",
                  f"{last['step']} GRPO steps; last step: reward {last['reward_mean']:.3f}, "
                  f"alignment gain {last['components']['alignment']:.3f} nats/token, "
                  f"answer preservation {last['answer_preservation']:.2f}.", "",
                  f"![learning curves]({curves.name})"]
    if summary:
        lines += ["", "## Adapted dataset", "", "```json", json.dumps(summary, indent=2), "```"]
    lines += ["", "## Example rewrites", "", *rewrite_examples(adapted)]
    report = figures / "report.md"
    report.write_text("\n".join(lines) + "\n")
    return report

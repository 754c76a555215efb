"""The no-penalties ablation's section: what the mapper learns when nothing stops it cheating.

Side by side for the DART mapper and the one learnt with every penalty off: the last learner
step's answer preservation and rewrite length (relative to the expert), the same over the
synthesis samples, and one rewrite the ablation's SFT data kept."""

from __future__ import annotations

from pathlib import Path

from dart.arms import NO_PENALTIES
from dart.artifacts import Artifacts
from dart.report.text import read_json, read_jsonl, side_by_side

ARM = NO_PENALTIES


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _row(label: str, artifacts: Path, arm: str) -> str:
    layout = Artifacts(artifacts)
    history = read_jsonl(layout.learn(arm).history)
    last = history[-1] if history else {}
    summary = read_json(layout.synthesize(arm).summary)
    cells = [last.get("answer_preservation"), last.get("length_ratio_mean"),
             summary.get("candidate_answer_preservation"),
             summary.get("mean_length_ratio_of_rewrites")]
    rewritten = f"{summary.get('rewritten', 0)}/{summary.get('items', 0)}"
    return f"| {label} | " + " | ".join(_number(c) for c in cells) + f" | {rewritten} |"


def _example(artifacts: Path, arm: str) -> list[str]:
    rows = [r for r in read_jsonl(Artifacts(artifacts).synthesize(arm).dataset)
            if r["provenance"]["outcome"] == "rewritten"]
    if not rows:
        return ["No rewrite of the ablation's mapper was kept."]
    row, reward = rows[0], rows[0]["provenance"]["chosen_reward"]
    original = row["provenance"]["original_solution"]
    heading = (f"**{row['question']}** (answer kept: {reward['answer_preserved']}, length "
               f"ratio {reward['length_ratio']:.2f})")
    return side_by_side(heading, original, row["solution"], "no-penalties rewrite")


def reward_hacking(artifacts: Path) -> list[str]:
    """The section's lines, or none when the run has no no-penalties ablation."""
    if not Artifacts(artifacts).learn(ARM).history.exists():
        return []
    return ["", "## Reward hacking without penalties (ablation no-penalties)", "",
            "| mapper | answer kept (last learn step) | length ratio (last learn step) "
            "| answer kept (synthesis samples) | length ratio (kept rewrites) | rewritten |",
            "|---|---|---|---|---|---|", _row("dart (penalties on)", artifacts, "dart"),
            _row(ARM, artifacts, ARM), "", *_example(artifacts, ARM)]

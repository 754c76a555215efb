"""The report's figures (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def learning_curves(history: list[dict], out: Path) -> Path:
    """Reward, alignment gain and answer preservation against learner steps."""
    steps = [h["step"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.plot(steps, [h["reward_mean"] for h in history], label="reward")
    left.plot(steps, [h["components"]["alignment"] for h in history], label="alignment gain")
    left.set_xlabel("learner step")
    left.set_ylabel("nats / token")
    left.legend()
    right.plot(steps, [h["answer_preservation"] for h in history], color="tab:green")
    right.set_ylim(0, 1.05)
    right.set_xlabel("learner step")
    right.set_ylabel("answer preservation")
    return _save(fig, out)


def accuracy_bars(models: dict[str, dict[str, dict]], out: Path) -> Path:
    """Accuracy per evaluation set, one bar per model."""
    sets = list(next(iter(models.values())))
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for index, (model, scores) in enumerate(models.items()):
        positions = [s + index * width for s in range(len(sets))]
        ax.bar(positions, [scores[name]["accuracy"] for name in sets], width, label=model)
    ax.set_xticks([s + width * (len(models) - 1) / 2 for s in range(len(sets))], sets)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy")
    ax.legend()
    return _save(fig, out)


def _save(fig, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out

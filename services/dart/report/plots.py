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


def style_share_curve(history: list[dict], out: Path) -> Path:
    """Share of the mapper's rewrites in the target's style, whole and per feature, against
    learner steps: what the mapper learnt about its target."""
    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, [h["style_share"] for h in history], label="whole style", linewidth=2)
    for feature in history[0]["style_features"]:
        ax.plot(steps, [h["style_features"][feature] for h in history], label=feature,
                linestyle="--")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("learner step")
    ax.set_ylabel("share of rewrites in the target's style")
    ax.legend()
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


CURVE_AXES = (("step", "training step"), ("tokens_trained", "tokens trained"),
              ("flops", "FLOPs spent (data + training)"))


def accuracy_curves(curves: dict[str, list[dict]], out: Path) -> Path:
    """Accuracy per set against training steps, trained tokens and compute spent, one line per
    arm (first seed)."""
    sets = list(next(iter(curves.values()))[0]["accuracy"])
    fig, axes = plt.subplots(len(CURVE_AXES), len(sets), figsize=(4 * len(sets), 9.5),
                             squeeze=False)
    for column, name in enumerate(sets):
        for row, (key, label) in enumerate(CURVE_AXES):
            ax = axes[row][column]
            for arm, points in curves.items():
                ax.plot([p.get(key, 0) for p in points], [p["accuracy"][name] for p in points],
                        marker="o", label=arm)
            ax.set_ylim(0, 1.05)
            ax.set_xlabel(label)
            ax.set_title(name)
    for row in axes:
        row[0].set_ylabel("accuracy")
    axes[0][-1].legend(fontsize="small")
    return _save(fig, out)


def oracle_gap_bars(gaps: dict[str, dict], out: Path) -> Path:
    """Fraction of the oracle gap recovered per set: the mean with its std, each seed a dot;
    an undefined set is labelled so."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for index, gap in enumerate(gaps.values()):
        if gap["mean"] is None:
            ax.text(index, 0.05, "undefined", ha="center", va="bottom")
            continue
        ax.bar(index, gap["mean"], 0.6, yerr=gap["std"] or 0.0, capsize=4, color="tab:blue")
        seeds = [g for g in gap["seeds"] if g is not None]
        ax.scatter([index] * len(seeds), seeds, color="black", zorder=3, s=12)
    ax.axhline(0, color="grey", lw=0.8)
    ax.axhline(1, color="tab:green", lw=0.8, ls="--")
    ax.text(len(gaps) - 0.45, 1.0, "sft-oracle", color="tab:green", ha="right", va="bottom")
    ax.set_xticks(range(len(gaps)), list(gaps))
    ax.set_xlim(-0.6, len(gaps) - 0.4)
    ax.set_ylabel("oracle gap recovered")
    return _save(fig, out)

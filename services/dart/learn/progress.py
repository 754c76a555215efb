"""Learner progress: progress.json (read by `dart run` and the operator), a JSONL history
(for the report's curves), Prometheus gauges, the experiment tracker (`spec.tracking`), and
a progress bar in a terminal."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from prometheus_client import Gauge

from dart import tracking
from dart.artifacts import atomic_write_json, atomic_write_jsonl, read_jsonl

log = logging.getLogger(__name__)
STEP = Gauge("dart_learner_step", "Learner steps done")
STEPS_TOTAL = Gauge("dart_learner_steps_total", "Learner steps planned")
REWARD = Gauge("dart_learner_reward_mean", "Mean reward of the last step")
COMPONENT = Gauge("dart_learner_reward_component", "Mean of one reward component, last step",
                  ["component"])
PRESERVED = Gauge("dart_learner_answer_preservation",
                  "Fraction of the last step's rewrites that kept the gold answer")
KL = Gauge("dart_learner_kl", "KL to the initial mapper (k3 estimate), last step")
TOKENS_PER_S = Gauge("dart_learner_tokens_per_second", "Rewrite tokens sampled per second")
VERSION = Gauge("dart_learner_weights_version", "Step of the weights last published")
DISTINCT = Gauge("dart_learner_distinct_rewrites_per_group",
                 "Mean distinct rewrites per group of the last step")
FLAT_GROUPS = Gauge("dart_learner_zero_variance_groups",
                    "Fraction of the last step's groups whose rewards are all equal (no signal)")
STYLE_SHARE = Gauge("dart_learner_style_share",
                    "Share of the last step's rewrites in the target's style (feature `style`: "
                    "the whole style), synthetic task only", ["feature"])


class Progress:
    """Records one line per step; ETA from the mean step time since (re)start."""

    def __init__(self, progress_file: Path, history_file: Path, start: int, total: int):
        self.progress_file, self.history_file = progress_file, history_file
        self.start, self.total = start, total
        self.started = time.monotonic()
        self._truncate_history(start)
        STEPS_TOTAL.set(total)
        self.bar = _bar(start, total)

    def record(self, step: int, stats: dict) -> dict:
        done = step + 1
        elapsed = time.monotonic() - self.started
        eta = elapsed / max(done - self.start, 1) * (self.total - done)
        entry = {"step": done, "total": self.total, "eta_seconds": round(eta), **stats}
        with self.history_file.open("a") as history:
            history.write(json.dumps(entry) + "\n")
        atomic_write_json(self.progress_file, {**entry, "updated_at": time.time()})
        self._export(done, stats)
        tracking.report(stats, step=done, prefix="learn/")
        # One event per step for log pipelines (DART_LOG_FORMAT=json); silent in text mode.
        log.info("step %d/%d reward %.3f kept %.2f", done, self.total, stats["reward_mean"],
                 stats["answer_preservation"], extra={"step": done})
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(reward=f"{stats['reward_mean']:.3f}",
                                 kept=f"{stats['answer_preservation']:.2f}",
                                 **({"style": f"{stats['style_share']:.2f}"}
                                    if "style_share" in stats else {}))
        return entry

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def _export(self, done: int, stats: dict) -> None:
        STEP.set(done)
        REWARD.set(stats["reward_mean"])
        PRESERVED.set(stats["answer_preservation"])
        KL.set(stats["kl"])
        TOKENS_PER_S.set(stats["tokens_per_s"])
        for name, value in stats["components"].items():
            COMPONENT.labels(name).set(value)
        if "distinct_rewrites_per_group" in stats:
            DISTINCT.set(stats["distinct_rewrites_per_group"])
            FLAT_GROUPS.set(stats["zero_variance_groups"])
        if "style_share" in stats:
            STYLE_SHARE.labels("style").set(stats["style_share"])
            for feature, share in stats["style_features"].items():
                STYLE_SHARE.labels(feature).set(share)

    def _truncate_history(self, start: int) -> None:
        """After a resume, forget steps the restored checkpoint had not reached (and a line
        torn by the crash)."""
        if not self.history_file.exists():
            return
        kept = [row for row in read_jsonl(self.history_file) if row["step"] <= start]
        atomic_write_jsonl(self.history_file, kept)


def _bar(start: int, total: int):
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=start, desc="learn", unit="step")

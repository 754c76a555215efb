"""The learner's diagnostics: signal per group, and the share of rewrites in the target's
style, recorded in progress and exported as Prometheus gauges."""

from __future__ import annotations

import json

from prometheus_client import REGISTRY

from dart.data.synthetic import generate_split
from dart.learn.diagnostics import group_diversity, style_stats
from dart.learn.progress import Progress


def solution(style: str, index: int = 0) -> str:
    return generate_split("train", seed=0, size=index + 1, style=style)[index]["solution"]


def test_group_diversity_counts_distinct_rewrites_and_flat_groups():
    texts = ["a", "a", "b", "c", "d", "d", "d", "d"]
    totals = [1.0, 1.0, 2.0, 0.5, 3.0, 3.0, 3.0, 3.0]
    assert group_diversity(texts, totals, 4) == {"distinct_rewrites_per_group": 2.0,
                                                 "zero_variance_groups": 0.5}
    # Different texts with equal rewards still give no advantage: the group is flat.
    assert group_diversity(["x", "y"], [0.0, 0.0], 2)["zero_variance_groups"] == 1.0


def test_style_stats_share_of_the_target_style_and_its_features():
    texts = [solution("opword-boxed"), solution("opword"), solution("native"), "no working"]
    stats = style_stats(texts, "opword-boxed")
    assert stats["style_share"] == 0.25
    assert stats["style_features"] == {"operator": 0.5, "carry": 0.75, "answer": 0.25}


def test_progress_records_and_exports_the_style_share(tmp_path):
    progress = Progress(tmp_path / "progress.json", tmp_path / "history.jsonl", 0, 2)
    stats = {"reward_mean": 1.0, "answer_preservation": 1.0, "kl": 0.0, "tokens_per_s": 9.0,
             "components": {"alignment": 1.0}, "distinct_rewrites_per_group": 3.5,
             "zero_variance_groups": 0.25,
             **style_stats([solution("native"), solution("boxed")], "native")}
    progress.record(0, stats)
    recorded = json.loads((tmp_path / "progress.json").read_text())
    assert recorded["style_share"] == 0.5 and recorded["style_features"]["answer"] == 0.5
    sample = REGISTRY.get_sample_value
    assert sample("dart_learner_style_share", {"feature": "style"}) == 0.5
    assert sample("dart_learner_style_share", {"feature": "operator"}) == 1.0
    assert sample("dart_learner_distinct_rewrites_per_group") == 3.5
    assert sample("dart_learner_zero_variance_groups") == 0.25

"""The merged adapted dataset: JSONL, Parquet, a `datasets` folder and a dataset card that
says where the rows came from and how they were chosen."""

from __future__ import annotations

import json

import yaml

from dart.artifacts import Artifacts, atomic_write_jsonl, is_done, read_jsonl
from dart.config.spec import DartRunSpec
from dart.rewards import RewardBreakdown
from dart.synthesize.job import merge
from dart.synthesize.select import Candidate, adapted_row
from dart.synthesize.shards import shard_path

SPEC = DartRunSpec.model_validate({
    "models": {"target": {"uri": "hf://org/target@v3"},
               "mapper": {"init": {"uri": "hf://org/mapper@v1"}, "training": "lora"}},
    "dataset": {"file": {"path": "hf://datasets/org/demos@abc123", "split": "train"}},
    "evaluate": {"sets": [{"name": "held", "file": {"path": "held.jsonl"}}]},
    "learn": {"reward": {"penalties": {"answerChanged": 3.0}}},
    "synthesize": {"fallback": "drop"},
})


def reward(total: float, preserved: bool = True) -> RewardBreakdown:
    return RewardBreakdown(total=total, alignment=total, min_token=0,
                           answer_changed=0 if preserved else 2, missing_answer=0,
                           numbers_changed=0, length=0, repetition=0, copy=0,
                           answer_preserved=preserved, length_ratio=1.0, repeated_fraction=0.0,
                           numbers_kept=1.0, operations_kept=1.0, operations_changed=0)


def shard_rows() -> list[dict]:
    """Three items: one rewritten, one whose rewrites all change the answer (dropped, as the
    spec's fallback says), one rewritten."""
    rows = []
    for position, good in enumerate((True, False, True)):
        item = {"id": str(position), "question": f"{position}+1?", "solution": "expert",
                "answer": str(position + 1)}
        candidate = Candidate(f"rewrite {position}", reward(1.0, preserved=good))
        row = adapted_row(item, [candidate], "drop", "step-8", "v2")
        rows.append({"position": position, "row": row})
    return rows


def test_merge_writes_a_datasets_folder_and_a_card_with_source_settings_and_counts(tmp_path):
    import datasets

    paths = Artifacts(tmp_path).synthesize()
    atomic_write_jsonl(shard_path(paths.shards, 0, 1), shard_rows())
    summary = merge(paths, 1, SPEC)
    assert (summary["rewritten"], summary["kept_original"], summary["dropped"]) == (2, 0, 1)
    assert is_done(paths.root)

    loaded = datasets.load_from_disk(str(paths.datasets_folder))
    jsonl = read_jsonl(paths.dataset)
    assert [r["id"] for r in loaded] == [r["id"] for r in jsonl] == ["0", "2"]
    assert json.loads(loaded[1]["provenance"]) == jsonl[1]["provenance"]

    card = paths.card.read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert front["source_datasets"] == ["hf://datasets/org/demos@abc123"]
    # The card names the parquet file as the train split: what `load_dataset` reads, here
    # and from the hub, among the folder's other files.
    assert front["configs"] == [{"config_name": "default", "data_files": [
        {"split": "train", "path": paths.parquet.name}]}]
    local = datasets.load_dataset(str(paths.root), split="train")
    assert [r["id"] for r in local] == ["0", "2"]
    for fact in ("| source revision | `abc123` |", "| target | `hf://org/target@v3` |",
                 "`hf://org/mapper@v1` (lora), versions `step-8`", "| rewritten | 2 |",
                 "| dropped | 1 |", "answerChanged: 3.0", "fallback: drop",
                 "- `original_solution`:"):
        assert fact in card, fact

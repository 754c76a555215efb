"""Choosing the kept rewrite, the fallback policy, and sharding that merges deterministically."""

import pytest

from dart.artifacts import atomic_write_jsonl
from dart.errors import UserError
from dart.rewards import RewardBreakdown
from dart.synthesize.select import Candidate, adapted_row, best_passing, grape_row
from dart.synthesize.shards import merge_shards, parse_shard, shard_items, shard_path

ITEM = {"id": "t-1", "question": "47-25?", "solution": "expert text", "answer": "22"}


def reward(total, preserved=True, length=0.0):
    return RewardBreakdown(total=total, alignment=total, min_token=0,
                           answer_changed=0 if preserved else 2, missing_answer=0,
                           numbers_changed=0, length=length, repetition=0, copy=0,
                           answer_preserved=preserved, length_ratio=1.0, repeated_fraction=0.0,
                           numbers_kept=1.0, operations_kept=1.0, operations_changed=0)


def test_best_passing_rewrite_wins_even_over_a_higher_scoring_cheat():
    candidates = [Candidate("changed answer", reward(9.0, preserved=False)),
                  Candidate("ok", reward(1.0)), Candidate("better", reward(2.0)),
                  Candidate("too short", reward(8.0, length=0.5))]
    assert best_passing(candidates).text == "better"
    row = adapted_row(ITEM, candidates, "keep-original", "final", "v1")
    assert row["solution"] == "better"
    assert row["provenance"]["outcome"] == "rewritten"
    assert row["provenance"]["passing_candidates"] == 2
    assert row["provenance"]["original_solution"] == "expert text"


def test_grape_keeps_the_most_likely_of_the_original_and_the_answer_keeping_rewrites():
    candidates = [Candidate("wrong answer", reward(9.0, preserved=False)),
                  Candidate("likely", reward(3.0)),
                  Candidate("long but likely", reward(4.0, length=0.5))]
    row = grape_row(ITEM, candidates, "drop", "base", "v1")
    assert row["solution"] == "long but likely"  # GRAPE has no length gate, only the answer
    assert row["provenance"]["answer_preserving_candidates"] == 2
    less_likely = [Candidate("unlikely", reward(-1.0)), Candidate("x", reward(5.0, False))]
    row = grape_row(ITEM, less_likely, "drop", "base", "v1")
    assert row["solution"] == "expert text" and row["provenance"]["outcome"] == "kept-original"


def test_fallback_keeps_the_original_or_drops_the_item():
    failing = [Candidate("x", reward(5.0, preserved=False))]
    kept = adapted_row(ITEM, failing, "keep-original", "final", "v1")
    assert kept["solution"] == "expert text" and kept["provenance"]["outcome"] == "kept-original"
    assert adapted_row(ITEM, failing, "drop", "final", "v1") is None


@pytest.mark.parametrize("text", ["3", "3/0", "4/4", "-1/2", "a/b"])
def test_bad_shard_arguments_are_user_errors(text):
    with pytest.raises(UserError):
        parse_shard(text)


def test_shards_partition_the_items_and_merge_in_dataset_order(tmp_path):
    items = [{"id": str(i)} for i in range(10)]
    shards = [shard_items(items, i, 3) for i in range(3)]
    assert sorted(p for shard in shards for p, _ in shard) == list(range(10))
    for index in (2, 0):  # finishing order does not matter
        rows = [{"position": p, "row": item} for p, item in shards[index]]
        atomic_write_jsonl(shard_path(tmp_path, index, 3), rows)
    with pytest.raises(UserError, match=r"shards \[1\]"):
        merge_shards(tmp_path, 3)
    atomic_write_jsonl(shard_path(tmp_path, 1, 3),
                       [{"position": p, "row": item} for p, item in shards[1]])
    assert [e["row"]["id"] for e in merge_shards(tmp_path, 3)] == [str(i) for i in range(10)]

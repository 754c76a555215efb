"""Shard files of the adapted dataset and their deterministic merge.

Shard i of n holds items i, i+n, i+2n, ... of the loaded demonstrations, so a Kubernetes
Indexed Job (`--shard $JOB_COMPLETION_INDEX/n`) splits the work with no coordination. A shard
is written to a temporary name and renamed: its presence means it is complete, and a re-run
skips it. The merge orders rows by their position in the original dataset.
"""

from __future__ import annotations

from pathlib import Path

from dart.artifacts import read_jsonl
from dart.artifacts.layout import shard_name
from dart.errors import UserError


def parse_shard(text: str) -> tuple[int, int]:
    """'2/8' -> (2, 8); indices start at 0."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise UserError(f"--shard {text!r}: expected INDEX/COUNT such as 0/4") from None
    if count < 1 or not 0 <= index < count:
        raise UserError(f"--shard {text!r}: INDEX must be in 0..COUNT-1 and COUNT >= 1")
    return index, count


def shard_path(folder: Path, index: int, count: int) -> Path:
    return folder / shard_name(index, count)


def shard_items(items: list[dict], index: int, count: int) -> list[tuple[int, dict]]:
    return [(position, items[position]) for position in range(index, len(items), count)]


def merge_shards(folder: Path, count: int) -> list[dict]:
    """All shards' rows in dataset order; refuses to merge while any shard is missing."""
    missing = [i for i in range(count) if not shard_path(folder, i, count).exists()]
    if missing:
        raise UserError(f"cannot merge: shards {missing} of {count} are not finished yet")
    rows = [row for i in range(count) for row in read_jsonl(shard_path(folder, i, count))]
    return sorted(rows, key=lambda row: row["position"])

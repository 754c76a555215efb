"""Read raw records from a file source: JSONL, Parquet, or a `datasets.save_to_disk` folder.

Records come back as plain dicts, untouched; mapping fields and judging rows is `dart.data.load`'s
job. A JSON line that does not parse is yielded as None so that it is counted as a bad row
rather than failing the whole load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from dart.errors import UserError

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
PVC_PREFIX = "pvc://"


def resolve_path(path: str, base_dir: Path | None = None) -> Path:
    """A local path for `path`: `pvc://CLAIM/PATH` lives under $DART_PVC_ROOT (the operator
    mounts each claim at `$DART_PVC_ROOT/CLAIM`); relative paths are taken from `base_dir`."""
    if path.startswith(PVC_PREFIX):
        return Path(os.environ.get("DART_PVC_ROOT", "/pvc")) / path.removeprefix(PVC_PREFIX)
    resolved = Path(path).expanduser()
    return resolved if resolved.is_absolute() or base_dir is None else base_dir / resolved


def detect_format(path: Path, declared: str = "auto") -> str:
    """The declared format, or one decided by the path: a folder is a saved HF dataset."""
    if declared != "auto":
        return declared
    if path.is_dir():
        return "hf-disk"
    if path.suffix in JSONL_SUFFIXES:
        return "jsonl"
    if path.suffix == ".parquet":
        return "parquet"
    raise UserError(f"{path}: cannot tell the data format from the name; set dataset.file.format "
                    "to jsonl, parquet or hf-disk")


def read_records(path: Path, fmt: str, split: str | None = None) -> Iterator[dict | None]:
    """Every record of the file, in order; None for a line that is not a JSON object."""
    if not path.exists():
        raise UserError(f"{path}: no such file or folder; check dataset.file.path")
    readers = {"jsonl": _jsonl, "parquet": _parquet, "hf-disk": _hf_disk}
    if fmt == "hf-disk":
        return _hf_disk(path, split)
    return readers[fmt](path)


def _jsonl(path: Path) -> Iterator[dict | None]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield _json_object(line)


def _json_object(line: str) -> dict | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def _parquet(path: Path) -> Iterator[dict]:
    import pyarrow.parquet as pq

    yield from pq.read_table(path).to_pylist()


def _hf_disk(path: Path, split: str | None) -> Iterator[dict]:
    import datasets

    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        loaded = _pick_split(path, loaded, split)
    yield from loaded


def _pick_split(path: Path, splits, split: str | None):
    names = list(splits)
    if split is None and len(names) == 1:
        return splits[names[0]]
    if split not in splits:
        raise UserError(f"{path}: split {split!r} not found; set dataset.file.split to one of: "
                        f"{', '.join(names)}")
    return splits[split]

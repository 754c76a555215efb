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
from dart.userfiles import existing_path, regular_file

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
MAX_LINE_BYTES = 16 * 1024 * 1024
"""A JSON line longer than this is a bad row, skipped without holding it in memory."""
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
    path = existing_path(path, "data file or saved dataset folder (dataset.file.path)")
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
    path = existing_path(path, "data file or saved dataset folder (dataset.file.path)")
    if fmt == "hf-disk":
        if not path.is_dir():
            raise UserError(f"{path}: format hf-disk needs a datasets.save_to_disk folder, "
                            "not a file; set dataset.file.format to jsonl or parquet")
        return _hf_disk(path, split)
    regular_file(path, f"{fmt} file")
    return {"jsonl": _jsonl, "parquet": _parquet}[fmt](path)


def _jsonl(path: Path) -> Iterator[dict | None]:
    with path.open("rb") as handle:
        yield from jsonl_records(handle, str(path))


def jsonl_records(handle, name: str) -> Iterator[dict | None]:
    """The records of an open binary JSONL stream (a local file or an object-store one)."""
    for number, line in enumerate(_bounded_lines(handle), start=1):
        if line is None:
            yield None  # a line over MAX_LINE_BYTES: one bad row, never in memory
            continue
        if number == 1:
            _refuse_utf16(name, line[:2])
            _refuse_nul_bytes(name, line)
            line = line.removeprefix(b"\xef\xbb\xbf")
        text = _utf8(name, number, line)
        if text.strip():
            yield _json_object(text)


def _bounded_lines(handle) -> Iterator[bytes | None]:
    """The file's lines, each read with a bound; None stands for a line over the bound."""
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):  # skip the rest of the long line
            line = handle.readline(MAX_LINE_BYTES)
        yield None


def _refuse_utf16(path: Path | str, start: bytes) -> None:
    if start in (b"\xff\xfe", b"\xfe\xff"):
        raise UserError(f"{path} is UTF-16 text; JSONL must be UTF-8: re-save it as UTF-8")


def _refuse_nul_bytes(path: Path | str, line: bytes) -> None:
    if b"\x00" in line:
        raise UserError(f"{path} holds NUL bytes (UTF-16 without a byte-order mark, or binary); "
                        "JSONL must be UTF-8 text: re-save it as UTF-8")


def _utf8(path: Path | str, number: int, line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: line {number} is not UTF-8 (Latin-1 or another encoding?); "
                        "JSONL must be UTF-8: re-save the file as UTF-8") from None


def _json_object(line: str) -> dict | None:
    """The line's object, or None: not JSON, not an object, nested too deeply for the parser,
    or an integer too long to convert all count as one bad row."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def _parquet(path: Path) -> Iterator[dict]:
    yield from parquet_records(path, str(path))


def parquet_records(source, name: str) -> Iterator[dict]:
    """The rows of a Parquet file: a path or an open binary stream."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = name
    try:
        table = pq.read_table(source)
    except (pa.ArrowException, OSError) as error:
        raise UserError(f"{path} is not a readable Parquet file ({_first_line(error)}); check "
                        "that it was written completely, or set dataset.file.format") from None
    yield from table.to_pylist()


def _hf_disk(path: Path, split: str | None) -> Iterator[dict]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError) as error:
        raise UserError(f"{path} is not a saved Hugging Face dataset ({_first_line(error)}); "
                        "give a datasets.save_to_disk folder, a .jsonl or a .parquet file"
                        ) from None
    if isinstance(loaded, datasets.DatasetDict):
        loaded = _pick_split(path, loaded, split)
    yield from loaded


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


def _pick_split(path: Path, splits, split: str | None):
    names = list(splits)
    if split is None and len(names) == 1:
        return splits[names[0]]
    if split not in splits:
        raise UserError(f"{path}: split {split!r} not found; set dataset.file.split to one of: "
                        f"{', '.join(names)}")
    return splits[split]

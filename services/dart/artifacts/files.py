"""Crash-safe files and folders: written whole or not at all, and one marker for "done".

A file is written to a hidden temporary name in its folder and renamed over the target
(atomic on POSIX), so a reader never sees half of it. A folder is filled under a hidden
staging name, gets the marker, and is renamed into place. A stage folder that is filled in
place gets the marker last. Either way: no marker, not done, and the work is simply redone.
Readers of small files name a torn file in one sentence (with the fix) or, where redoing
the work is cheap, treat it as missing.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dart.errors import UserError

MARKER = "DONE"
"""The one marker: a folder holding it is complete (checkpoints, weights, models, stages)."""


def is_done(folder: Path) -> bool:
    return (Path(folder) / MARKER).is_file()


def mark_done(folder: Path) -> None:
    """Written last: everything the folder holds is complete once this exists."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / MARKER, "")


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        with tmp.open("w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())  # the rename must not reach the disk before the bytes
        os.replace(tmp, path)
    finally:  # a full disk must not leave a half temporary behind as well
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_json(path: Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def atomic_write_jsonl(path: Path, rows: Iterable[dict]) -> Path:
    return atomic_write_text(path, "".join(json.dumps(row) + "\n" for row in rows))


def append_jsonl(path: Path, rows: Iterable[dict]) -> Path:
    """Rows added durably at the end of a JSONL file: a crash mid-append tears at most the
    last line, which read_jsonl drops, so long work can be kept as it goes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write("".join(json.dumps(row) + "\n" for row in rows))
        out.flush()
        os.fsync(out.fileno())
    return path


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """A temporary path to write with any library (Parquet, torch), renamed on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """An empty staging folder; on success it is marked done and replaces `final`. A crash
    leaves `final` as it was or absent, never half-written (the staging is cleared on reuse)."""
    staging = final.parent / f".tmp-{final.name}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    yield staging
    mark_done(staging)
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)


def torn(path: Path, why: str) -> UserError:
    return UserError(f"{path} is incomplete or corrupt ({why}): delete it and run the "
                     "same command again to redo that step")


def read_json(path: Path) -> Any:
    """A small JSON file an earlier step wrote; a torn one is one clear error."""
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise torn(path, f"not valid JSON: {error.msg} at line {error.lineno}") from None


def read_json_or(path: Path, default: Any = None) -> Any:
    """A JSON file whose absence (or tearing) only means "not written yet"."""
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return default


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSONL file; a truncated last line (a crash mid-append) is dropped, a bad
    line elsewhere is one clear error."""
    if not Path(path).exists():
        return []
    lines = [line for line in Path(path).read_text().splitlines() if line.strip()]
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break  # the append the crash interrupted
            raise torn(path, f"line {number} is not valid JSON") from None
    return rows

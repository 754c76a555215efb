"""Hostile data files for every loader (JSONL, Parquet, saved datasets): a clear error naming
the file, or bad rows counted, never a traceback, a hang or the whole file in memory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dart.config.spec import Dataset, EvalSet
from dart.data.load import load_demonstrations, load_eval_set
from dart.data.sources import MAX_LINE_BYTES
from dart.errors import UserError
from dart.verify import NumericVerifier

GOOD = [{"question": f"What is {i} + {i}?", "solution": f"{i} + {i} = {2 * i}. Answer: {2 * i}",
         "answer": str(2 * i)} for i in range(1, 41)]
GOOD_LINES = "".join(json.dumps(r) + "\n" for r in GOOD)


def parquet_bytes() -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(GOOD), buffer)
    return buffer.getvalue()


def write(path: Path, content) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def make_latin1(tmp: Path) -> Path:
    return write(tmp / "d.jsonl", GOOD_LINES.encode() + '{"question": "caf\u00e9"}\n'.encode(
        "latin-1"))


def make_utf16(tmp: Path) -> Path:
    return write(tmp / "d.jsonl", GOOD_LINES.encode("utf-16"))


def make_utf16_no_bom(tmp: Path) -> Path:
    return write(tmp / "d.jsonl", GOOD_LINES.encode("utf-16-le"))


def make_truncated_parquet(tmp: Path) -> Path:
    return write(tmp / "d.parquet", parquet_bytes()[:-40])


def make_garbage_parquet(tmp: Path) -> Path:
    return write(tmp / "d.parquet", os.urandom(4096))


def make_empty_parquet(tmp: Path) -> Path:
    return write(tmp / "d.parquet", b"")


def make_jsonl_as_parquet(tmp: Path) -> Path:
    return write(tmp / "d.parquet", GOOD_LINES)


def make_not_a_dataset_folder(tmp: Path) -> Path:
    folder = tmp / "folder"
    folder.mkdir()
    write(folder / "notes.txt", "hello")
    return folder


def make_empty_folder(tmp: Path) -> Path:
    folder = tmp / "empty"
    folder.mkdir()
    return folder


def make_fifo(tmp: Path) -> Path:
    path = tmp / "d.jsonl"
    os.mkfifo(path)
    return path


def make_missing(tmp: Path) -> Path:
    return tmp / "nope.jsonl"


def make_all_deeply_nested(tmp: Path) -> Path:
    return write(tmp / "d.jsonl", ("[" * 100_000 + "]" * 100_000 + "\n") * 3)


def make_all_huge_numbers(tmp: Path) -> Path:
    line = '{"question": "q", "solution": "s", "answer": ' + "9" * 5000 + "}\n"
    return write(tmp / "d.jsonl", line * 3)


def make_binary_jsonl(tmp: Path) -> Path:
    return write(tmp / "d.jsonl", bytes(range(128, 256)) * 16)


# name -> (how to make it, what the one-line error says)
HOSTILE_FILES = {
    "latin-1-jsonl": (make_latin1, "line 41 is not UTF-8"),
    "utf-16-jsonl": (make_utf16, "is UTF-16 text; JSONL must be UTF-8"),
    "utf-16-jsonl-without-bom": (make_utf16_no_bom, "holds NUL bytes"),
    "truncated-parquet": (make_truncated_parquet, "is not a readable Parquet file"),
    "garbage-parquet": (make_garbage_parquet, "is not a readable Parquet file"),
    "empty-parquet": (make_empty_parquet, "is not a readable Parquet file"),
    "jsonl-named-parquet": (make_jsonl_as_parquet, "is not a readable Parquet file"),
    "folder-not-a-dataset": (make_not_a_dataset_folder, "is not a saved Hugging Face dataset"),
    "empty-folder": (make_empty_folder, "is not a saved Hugging Face dataset"),
    "fifo": (make_fifo, "is not a regular file"),
    "missing": (make_missing, "no such file or folder"),
    "every-row-deeply-nested": (make_all_deeply_nested, "3 of 3 rows are bad"),
    "every-row-a-huge-number": (make_all_huge_numbers, "3 of 3 rows are bad"),
    "binary-jsonl": (make_binary_jsonl, "is not UTF-8"),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
@pytest.mark.parametrize("loader", ["demonstrations", "eval-set"])
def test_a_hostile_data_file_is_one_clear_error_naming_it(name, loader, tmp_path):
    make, expected = HOSTILE_FILES[name]
    path = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(UserError) as caught:
        _load(loader, path)
    message = str(caught.value)
    assert str(path) in message and expected in message, message
    assert "\n" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing half-written


def _load(loader: str, path: Path):
    file = {"path": str(path)}
    dataset = Dataset.model_validate({"file": file})
    if loader == "demonstrations":
        return load_demonstrations(dataset, NumericVerifier())
    return load_eval_set(EvalSet(name="held-out", file=file), dataset, NumericVerifier())


@pytest.mark.parametrize("bad_line", [
    "[" * 100_000 + "]" * 100_000,
    '{"question": "q", "solution": "s", "answer": ' + "9" * 5000 + "}",
    '{"question": 1e999999, "solution": "s", "answer": "1"}',
    "[1, 2, 3]",
    "not json at all",
], ids=["deep", "huge-int", "huge-float", "array", "text"])
def test_one_hostile_line_is_a_counted_bad_row(bad_line, tmp_path):
    path = write(tmp_path / "d.jsonl", GOOD_LINES + bad_line + "\n")
    loaded = load_demonstrations(Dataset.model_validate(
        {"file": {"path": str(path)}, "maxBadFraction": 0.05}), NumericVerifier())
    assert loaded.summary.read == len(GOOD) + 1
    assert loaded.summary.kept == len(GOOD) and loaded.summary.bad == 1


def test_a_line_over_the_bound_is_skipped_without_reading_it_whole(tmp_path):
    path = tmp_path / "d.jsonl"
    with path.open("w") as handle:
        handle.write(GOOD_LINES)
        handle.write('{"question": "' + "x" * (MAX_LINE_BYTES + 10) + '"}\n')
        handle.write(json.dumps(GOOD[0]) + "\n")
    loaded = load_demonstrations(Dataset.model_validate(
        {"file": {"path": str(path)}, "maxBadFraction": 0.05}), NumericVerifier())
    assert (loaded.summary.read, loaded.summary.bad) == (len(GOOD) + 2, 1)


def test_a_utf8_bom_is_accepted(tmp_path):
    path = write(tmp_path / "d.jsonl", b"\xef\xbb\xbf" + GOOD_LINES.encode())
    loaded = load_demonstrations(Dataset.model_validate({"file": {"path": str(path)}}),
                                 NumericVerifier())
    assert len(loaded) == len(GOOD)


def test_a_file_given_as_hf_disk_is_one_sentence(tmp_path):
    path = write(tmp_path / "d.jsonl", GOOD_LINES)
    dataset = Dataset.model_validate({"file": {"path": str(path), "format": "hf-disk"}})
    with pytest.raises(UserError, match="format hf-disk needs a datasets.save_to_disk folder"):
        load_demonstrations(dataset, NumericVerifier())

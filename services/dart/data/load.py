"""Load the demonstrations a run adapts, and its evaluation sets, from the DartRun spec.

    verifier = verifier_for(spec)
    demos = load_demonstrations(spec.dataset, verifier)       # .rows, .summary
    held_out = load_eval_set(spec.evaluate.sets[0], spec.dataset, verifier)

Every source (a file, the synthetic task, reasoning-gym) goes through the same row checks
(dart.data.rows): bad rows are counted and skipped, too many fail the load in one sentence.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from dart.config.spec import FieldMapping
from dart.data import remote
from dart.data.length import TOO_LONG, LengthBudget, fit_rows
from dart.data.rows import DemonstrationSet, check_bad_fraction, judge_records
from dart.data.sources import (
    detect_format,
    jsonl_records,
    parquet_records,
    read_records,
    resolve_path,
)
from dart.errors import UserError

log = logging.getLogger(__name__)
GENERATED_FIELDS = FieldMapping()  # generators write question / solution / answer


class Records(NamedTuple):
    """Raw records of one source, the name the summary uses, and where their fields are."""

    source: str
    records: Iterable[dict | None]
    fields: FieldMapping


def load_demonstrations(dataset, verifier, *, base_dir: Path | None = None,
                        budget: LengthBudget | None = None) -> DemonstrationSet:
    """The training demonstrations of `dataset` (a spec `Dataset`), checked and limited; with
    a `budget` (dart.data.length), too-long ones are dropped or truncated and counted."""
    raw = _training_records(dataset, base_dir)
    rows, summary = judge_records(raw.records, raw.fields, verifier, raw.source)
    if budget is not None:
        rows, dropped, summary.truncated = fit_rows(rows, budget)
        summary.skipped[TOO_LONG] += dropped
        summary.skipped += Counter()  # drop a zero count
        summary.kept = len(rows)
        if dropped or summary.truncated:
            log.warning("%s", summary.line())
    check_bad_fraction(summary, dataset.max_bad_fraction)
    if dataset.limit is not None:
        rows = rows[:dataset.limit]
        summary.kept = len(rows)
    return DemonstrationSet(rows, summary)


def load_eval_set(eval_set, dataset, verifier, *, base_dir: Path | None = None
                  ) -> DemonstrationSet:
    """Held-out problems of one spec `EvalSet`: a generator split or a file. A solution is
    not required here, only a question and a gold answer."""
    raw = _eval_records(eval_set, dataset, base_dir)
    rows, summary = judge_records(raw.records, raw.fields, verifier, raw.source,
                                  require_solution=False)
    check_bad_fraction(summary, dataset.max_bad_fraction)
    return DemonstrationSet(rows, summary)


def _training_records(dataset, base_dir: Path | None) -> Records:
    if dataset.file is not None:
        return _file_records(dataset.file, dataset.fields, base_dir)
    if dataset.synthetic is not None:
        return Records("synthetic:train", _synthetic_train(dataset.synthetic), GENERATED_FIELDS)
    task = dataset.reasoning_gym.task
    return Records(f"reasoning-gym:{task}", _reasoning_gym_train(dataset.reasoning_gym),
                   GENERATED_FIELDS)


def _eval_records(eval_set, dataset, base_dir: Path | None) -> Records:
    if eval_set.file is not None:
        return _file_records(eval_set.file, dataset.fields, base_dir)
    if dataset.synthetic is not None:
        rows = _synthetic_eval(dataset.synthetic, eval_set.split)
        return Records(f"synthetic:{eval_set.split}", rows, GENERATED_FIELDS)
    if dataset.reasoning_gym is not None:
        rows = _reasoning_gym_eval(dataset.reasoning_gym, eval_set.split)
        return Records(f"reasoning-gym:{eval_set.split}", rows, GENERATED_FIELDS)
    raise _no_generator(eval_set)


def _file_records(file_source, fields: FieldMapping, base_dir: Path | None) -> Records:
    url = file_source.path
    if remote.is_hub_dataset(url):
        columns = [c for c in (fields.question, fields.solution, fields.answer) if c]
        return Records(url, remote.hub_records(url, file_source.split, columns), fields)
    if remote.is_object_store(url):
        return Records(url, _object_store_records(url, file_source.format), fields)
    path = resolve_path(file_source.path, base_dir)
    fmt = detect_format(path, file_source.format)
    return Records(str(path), read_records(path, fmt, file_source.split), fields)


def _synthetic_train(source) -> list[dict]:
    from dart.data.synthetic import generate_split

    return generate_split("train", seed=source.seed, size=source.train_size,
                          style=source.expert_style, replay_fraction=source.replay_fraction)


def _synthetic_eval(source, split: str) -> list[dict]:
    from dart.data.synthetic import EVAL_SPLITS, generate_split

    if split not in EVAL_SPLITS:
        raise UserError(f"evaluation split {split!r} is not a synthetic-task split; choose one "
                        f"of: {', '.join(EVAL_SPLITS)}")
    return generate_split(split, seed=source.seed, size=source.eval_size)


def _reasoning_gym_train(source) -> list[dict]:
    from dart.data.reasoning_gym import generate_task

    return generate_task(source.task, size=source.size, seed=source.seed)


def _reasoning_gym_eval(source, split: str) -> list[dict]:
    from dart.data.reasoning_gym import generate_eval_split

    exclude = {r["question"] for r in _reasoning_gym_train(source)}
    return generate_eval_split(source.task, split, size=source.eval_size, seed=source.seed,
                               exclude=exclude)


def _no_generator(eval_set) -> UserError:
    return UserError(f"evaluation set {eval_set.name!r} names split {eval_set.split!r}, but the "
                     "dataset is a file; give the set a file instead")


def _object_store_records(url: str, declared: str) -> Iterable[dict | None]:
    """Records streamed from s3:// or gs://; the object is opened when reading starts."""
    fmt = remote.object_store_format(url, declared)
    with remote.open_object(url) as handle:
        yield from (jsonl_records if fmt == "jsonl" else parquet_records)(handle, url)

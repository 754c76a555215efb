"""The artifacts folder: crash-safe writes, one marker, and torn files that never block a
re-run (a missing marker means redo; a torn small file is one clear error or "not done")."""

from __future__ import annotations

import pytest

from dart.artifacts import (
    MARKER,
    Artifacts,
    atomic_folder,
    atomic_write_json,
    is_done,
    read_json,
    read_json_or,
    read_jsonl,
)
from dart.errors import UserError


def test_a_folder_appears_complete_and_marked_or_not_at_all(tmp_path):
    final = tmp_path / "weights" / "final"
    with pytest.raises(RuntimeError), atomic_folder(final) as staging:
        (staging / "adapter.bin").write_text("half")
        raise RuntimeError("killed mid-write")
    assert not final.exists() and not is_done(final)
    with atomic_folder(final) as staging:
        (staging / "adapter.bin").write_text("whole")
    assert is_done(final) and (final / "adapter.bin").read_text() == "whole"
    assert (final / MARKER).exists() and not list(final.parent.glob(".tmp-*"))


def test_a_rewrite_replaces_the_old_folder_whole(tmp_path):
    final = tmp_path / "model"
    for text in ("first", "second"):
        with atomic_folder(final) as staging:
            (staging / "weights").write_text(text)
    assert (final / "weights").read_text() == "second" and is_done(final)


def test_a_torn_small_file_is_one_clear_error_naming_it(tmp_path):
    summary = tmp_path / "summary.json"
    summary.write_text('{"rows": 12, "drop')
    with pytest.raises(UserError, match=r"summary\.json is incomplete or corrupt.*delete it"):
        read_json(summary)
    assert read_json_or(summary, {}) == {}  # where redoing is cheap: simply not there


def test_a_truncated_last_history_line_is_dropped_and_a_bad_middle_line_is_an_error(tmp_path):
    history = tmp_path / "history.jsonl"
    history.write_text('{"step": 1}\n{"step": 2}\n{"step": 3, "rew')
    assert read_jsonl(history) == [{"step": 1}, {"step": 2}]
    history.write_text('{"step": 1}\n{"ste\n{"step": 3}\n')
    with pytest.raises(UserError, match="line 2"):
        read_jsonl(history)


def test_an_atomic_write_leaves_no_temporary_file(tmp_path):
    path = atomic_write_json(tmp_path / "evaluate" / "results.json", {"models": {}})
    assert read_json(path) == {"models": {}}
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]


def test_an_sft_run_with_a_model_but_no_marker_is_redone(tmp_path):
    """The stats file is written after the model; only the run folder's marker says both
    are there. A crash in between leaves a run the next `dart run` trains again."""
    from dart.sft.stage import sft_run_done

    run = Artifacts(tmp_path).sft("dart", 0)
    with atomic_folder(run.model) as staging:
        (staging / "config.json").write_text("{}")
    assert not sft_run_done(tmp_path, "dart", 0)
    atomic_write_json(run.stats, {"steps": 3})
    (run.root / MARKER).write_text("")
    assert sft_run_done(tmp_path, "dart", 0)


def test_every_stage_path_is_under_the_one_layout(tmp_path):
    layout, at = Artifacts(tmp_path), lambda path: tmp_path / path
    assert layout.learn().final == at("learn/weights/final")
    assert layout.learn("no-penalties").history == at("ablations/no-penalties/learn/history.jsonl")
    assert layout.synthesize("no-rl").dataset == at("ablations/no-rl/synthesize/adapted.jsonl")
    assert layout.synthesize().shard(2, 8) == at("synthesize/shards/shard-00002-of-00008.jsonl")
    assert layout.direct_rl_model == at("direct-rl/model")
    curve = layout.sft("sft-oracle", 1).curve_model(40)
    assert curve == at("sft/sft-oracle/seed-1/curve/step-000040")
    assert layout.evaluation("dart/seed-0") == at("evaluate/runs/dart/seed-0.json")
    assert layout.report == at("report/report.md")

"""Synthesis shards as an Indexed Job runs them, against real servers on loopback with a tiny
untrained mapper: more shards than items, a shard whose process dies, and a re-run of one
shard. The merge happens once, when every shard is there, and keeps every item once."""

import json
from pathlib import Path

import pytest
import yaml

from dart.artifacts import Artifacts
from dart.config.load import load_dartrun
from dart.errors import UserError
from dart.synthesize.shards import shard_path
from dart.synthesize.stage import run_synthesize_stage, synthesize_done

pytestmark = pytest.mark.slow

ITEMS, SHARDS = 3, 5  # two shards have no item at all


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(spec, generator address, scorer address) with both servers up for the module."""
    from dart.local.servers import local_servers
    from dart.models.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("shards")
    build_tiny_model(root / "target")
    config = root / "run.yaml"
    config.write_text(yaml.safe_dump({
        "apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "shards"},
        "spec": {"models": {"target": {"uri": str(root / "target")}},
                 "dataset": {"synthetic": {"trainSize": 16, "evalSize": 4}, "limit": ITEMS},
                 "learn": {"maxNewTokens": 8}, "synthesize": {"samplesPerItem": 2}}}))
    spec = load_dartrun(config).spec
    with local_servers(spec, root / "servers") as (generator, scorer):
        yield spec, generator, scorer


class ShardDied(Exception):
    pass


def die(done: int, total: int) -> None:
    raise ShardDied(f"killed after {done} of {total} items, before writing its shard")


def synthesize(run, artifacts: Path, index: int, on_progress=None) -> dict:
    spec, generator, scorer = run
    return run_synthesize_stage(spec, artifacts, (index, SHARDS), generator, scorer,
                                on_progress=on_progress, untrained=True)


def test_more_shards_than_items_a_dead_shard_and_a_rerun(run, tmp_path):
    artifacts = tmp_path / "a"
    synthesized = Artifacts(artifacts).synthesize()
    shards = synthesized.shards
    for index in (0, 2, 3, 4):
        assert synthesize(run, artifacts, index) == {}  # shard 1 is still missing
    assert all(shard_path(shards, i, SHARDS).read_text() == "" for i in (3, 4))  # no items
    # Shard 1's process dies after its rewrites, before its shard is written; an earlier
    # SIGKILL mid-write left a torn temporary file (dart.artifacts names it after its
    # process). Nothing counts as done, nothing merges.
    torn = shards / f".{shard_path(shards, 1, SHARDS).name}.99999.tmp"
    torn.write_text('{"position": 1, "row"')
    with pytest.raises(ShardDied):
        synthesize(run, artifacts, 1, on_progress=die)
    assert not shard_path(shards, 1, SHARDS).exists() and not synthesize_done(artifacts)
    with pytest.raises(UserError, match=r"shards \[1\] of 5"):
        from dart.synthesize.job import merge

        merge(synthesized, SHARDS, run[0])
    # Its re-run completes the set and merges every item exactly once, in dataset order.
    finished = {i: shard_path(shards, i, SHARDS).stat().st_mtime_ns for i in (0, 2)}
    summary = synthesize(run, artifacts, 1)
    assert summary["items"] == ITEMS and summary["rows"] + summary["dropped"] == ITEMS
    rows = [json.loads(line) for line in synthesized.dataset.read_text().splitlines()]
    assert len(rows) == summary["rows"]
    assert len({r["id"] for r in rows}) == len(rows)
    # A re-run of a finished shard is skipped: its file is not rewritten.
    synthesize(run, artifacts, 0)
    assert {i: shard_path(shards, i, SHARDS).stat().st_mtime_ns for i in (0, 2)} == finished


def shard_rows(artifacts: Path, count: int = 1) -> list[dict]:
    path = shard_path(Artifacts(artifacts).synthesize().shards, 0, count)
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in path.read_text().splitlines()]


def test_a_shard_keeps_each_finished_chunk_and_goes_on_from_there(run, tmp_path, monkeypatch):
    """A crash or a full disk mid-shard loses one chunk at most: a re-run generates only the
    chunks not kept, and the shard is the one an uninterrupted run writes."""
    import dart.synthesize.job as job
    from dart.artifacts.layout import partial_shard

    spec, generator, scorer = run
    monkeypatch.setattr(job, "CHUNK_ITEMS", 1)  # three chunks of one demonstration
    synthesize1 = lambda out, **kw: run_synthesize_stage(  # noqa: E731
        spec, out, (0, 1), generator, scorer, untrained=True, **kw)
    synthesize1(tmp_path / "whole")

    calls = []
    real_append = job.append_jsonl

    def disk_full_on_second_chunk(path, rows):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(path))
        return real_append(path, rows)

    monkeypatch.setattr(job, "append_jsonl", disk_full_on_second_chunk)
    with pytest.raises(UserError) as caught:
        synthesize1(tmp_path / "full")
    shards = Artifacts(tmp_path / "full").synthesize().shards
    partial = partial_shard(shard_path(shards, 0, 1))
    message = str(caught.value)
    assert message.startswith(f"{partial}: no space left on device: the shard needs about ")
    assert "the 1 of 3 demonstrations already rewritten are kept" in message
    assert [json.loads(line)["position"] for line in partial.read_text().splitlines()] == [0]
    assert not list(shards.glob("*.tmp")) and not shard_path(shards, 0, 1).exists()

    monkeypatch.setattr(job, "append_jsonl", real_append)
    reported = []
    synthesize1(tmp_path / "full", on_progress=lambda done, total: reported.append(done))
    assert reported == [2, 3]  # chunk 1 was kept, not generated again
    assert shard_rows(tmp_path / "full") == shard_rows(tmp_path / "whole")
    assert not partial.exists()

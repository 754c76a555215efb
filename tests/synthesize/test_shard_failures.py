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

"""Each tracker backend writes real files a user's tool reads back: TensorBoard event files,
an MLflow file store, a W&B offline run; one tracker run per unit, grouped by the run."""

from __future__ import annotations

import logging

import pytest
from readers import mlflow_runs, tensorboard_scalars, wandb_offline_run

from dart import tracking
from dart.config.spec import DartRunSpec
from dart.tracking.base import NoTracker, Tracker

STEPS = [{"reward_mean": 0.25, "components": {"alignment": -1.5, "answer_changed": 0.0},
          "style_share": 0.5, "resumed": True, "note": "text"},
         {"reward_mean": 0.75, "components": {"alignment": -0.5, "answer_changed": 0.0},
          "style_share": 0.875, "resumed": True, "note": "text"}]


def spec(**tracking_spec) -> DartRunSpec:
    return DartRunSpec.model_validate({"models": {"target": {"uri": "/models/t"}},
                                       "dataset": {"synthetic": {}},
                                       "tracking": tracking_spec or None})


def learn_two_steps(run_spec: DartRunSpec, artifacts) -> None:
    with tracking.tracked(run_spec, artifacts, "learn"):
        for step, stats in enumerate(STEPS, start=1):
            tracking.report(stats, step=step, prefix="learn/")


@pytest.fixture(autouse=True)
def run_name(monkeypatch):
    monkeypatch.setenv("DART_RUN_NAME", "demo")


def test_flatten_keeps_numbers_by_slashed_key_and_drops_the_rest():
    assert tracking.flatten(STEPS[0], "learn/") == {
        "learn/reward_mean": 0.25, "learn/components/alignment": -1.5,
        "learn/components/answer_changed": 0.0, "learn/style_share": 0.5}


def test_tensorboard_event_files_hold_every_step(tmp_path):
    learn_two_steps(spec(backend="tensorboard"), tmp_path)
    scalars = tensorboard_scalars(tmp_path / "tracking/tensorboard/learn")
    assert set(scalars) == {"learn/reward_mean", "learn/components/alignment",
                            "learn/components/answer_changed", "learn/style_share"}
    assert scalars["learn/reward_mean"] == [(1, 0.25), (2, 0.75)]
    assert scalars["learn/components/alignment"] == [(1, -1.5), (2, -0.5)]


def test_an_mlflow_file_store_holds_one_run_per_unit_in_the_runs_experiment(tmp_path):
    run_spec = spec(backend="mlflow", mlflow={"trackingUri": str(tmp_path / "store")})
    learn_two_steps(run_spec, tmp_path)
    with tracking.tracked(run_spec, tmp_path, "evaluate"):
        tracking.report({"accuracy": {"dart": {"in-domain": {"mean": 0.5}}}},
                        prefix="evaluate/")
    runs = mlflow_runs((tmp_path / "store").as_uri(), "demo")
    assert set(runs) == {"learn", "evaluate"}
    learn = runs["learn"]
    assert learn["status"] == "FINISHED"
    assert learn["tags"]["dart.run"] == "demo" and learn["tags"]["dart.unit"] == "learn"
    assert learn["metrics"]["learn/style_share"] == [(1, 0.5), (2, 0.875)]
    assert runs["evaluate"]["metrics"] == {"evaluate/accuracy/dart/in-domain/mean": [(0, 0.5)]}


def test_the_default_mlflow_store_is_under_the_artifacts_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    learn_two_steps(spec(backend="mlflow", mlflow={"experiment": "mine"}), tmp_path)
    runs = mlflow_runs((tmp_path / "tracking/mlruns").as_uri(), "mine")
    assert runs["learn"]["metrics"]["learn/reward_mean"] == [(1, 0.25), (2, 0.75)]


def test_a_wandb_offline_run_records_the_group_name_and_history(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_SILENT", "true")
    learn_two_steps(spec(backend="wandb", wandb={"mode": "offline", "project": "p"}),
                    tmp_path)
    written = wandb_offline_run(tmp_path / "tracking")
    assert written["run"] is not None, written["kinds"]
    assert written["run"].run_group == "demo" and written["run"].display_name == "learn"
    assert written["run"].project == "p"
    rows = [row for row in written["history"] if "learn/reward_mean" in row]
    assert [(row["_step"], row["learn/reward_mean"]) for row in rows] == [(1, 0.25), (2, 0.75)]
    assert rows[1]["learn/components/alignment"] == -0.5


def test_no_tracking_and_other_ranks_write_nothing(tmp_path, monkeypatch):
    learn_two_steps(spec(), tmp_path)
    monkeypatch.setenv("RANK", "1")
    learn_two_steps(spec(backend="tensorboard"), tmp_path)
    assert not (tmp_path / "tracking").exists()
    assert isinstance(tracking.open_tracker(spec(backend="mlflow"), tmp_path, "x"), NoTracker)


class Broken(Tracker):
    calls = 0

    def log(self, metrics, step):
        Broken.calls += 1
        raise ConnectionError("tracking server went away")

    def close(self):
        pass


def test_a_tracker_failing_mid_run_is_switched_off_with_one_warning(monkeypatch, caplog):
    monkeypatch.setattr(tracking, "open_tracker", lambda *args: Broken())
    with caplog.at_level(logging.WARNING), tracking.tracked(spec(), "/tmp", "learn"):
        for step, stats in enumerate(STEPS, start=1):
            tracking.report(stats, step=step)
    assert Broken.calls == 1
    assert [r.getMessage() for r in caplog.records] == [
        "experiment tracking stopped: ConnectionError: tracking server went away"]

"""The stages hand the tracker the figures they write to disk: the learner's history line,
the SFT Trainer's losses, evaluate's final accuracies (a real tiny fine-tune and a real
evaluation of a tiny model, read back from TensorBoard event files and an MLflow store)."""

from __future__ import annotations

import pytest
from readers import mlflow_runs, tensorboard_scalars

from dart import tracking
from dart.artifacts import Artifacts, read_json, read_jsonl
from dart.config.spec import DartRunSpec
from dart.learn.progress import Progress

STATS = {"reward_mean": 0.5, "answer_preservation": 0.875, "kl": 0.01, "tokens_per_s": 900.0,
         "components": {"alignment": -2.0, "answer_changed": -0.25},
         "style_share": 0.375, "style_features": {"separator": 0.5}}


@pytest.fixture(autouse=True)
def run_name(monkeypatch):
    monkeypatch.setenv("DART_RUN_NAME", "demo")


def spec(target: str = "/models/t", **fields) -> DartRunSpec:
    return DartRunSpec.model_validate({"models": {"target": {"uri": target}},
                                       "dataset": {"synthetic": {"evalSize": 4}}, **fields})


def test_every_learner_step_reaches_the_tracker_as_in_history(tmp_path):
    paths = Artifacts(tmp_path).learn()
    paths.root.mkdir(parents=True)
    with tracking.tracked(spec(tracking={"backend": "tensorboard"}), tmp_path, "learn"):
        progress = Progress(paths.progress, paths.history, 0, 2)
        for step in range(2):
            progress.record(step, {**STATS, "reward_mean": 0.5 + step})
    history = read_jsonl(paths.history)
    scalars = tensorboard_scalars(tmp_path / "tracking/tensorboard/learn")
    assert scalars["learn/reward_mean"] == [(h["step"], h["reward_mean"]) for h in history]
    assert scalars["learn/components/answer_changed"] == [(1, -0.25), (2, -0.25)]
    assert scalars["learn/style_features/separator"] == [(1, 0.5), (2, 0.5)]
    assert "learn/eta_seconds" not in scalars  # progress bookkeeping, not a figure


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from dart.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "target", seed=0)


def test_sft_losses_reach_the_tracker_at_their_steps(tmp_path, tiny):
    from dart.config.model_uri import ModelSource
    from dart.sft.train import fine_tune

    run_spec = spec(str(tiny), tracking={"backend": "tensorboard"},
                    sft={"batchSize": 4, "maxSeqLength": 64})
    rows = [{"question": f"{i} + {i}", "solution": f"{i} + {i} = {2 * i}"} for i in range(12)]
    out = Artifacts(tmp_path).sft("dart", 0).root
    with tracking.tracked(run_spec, tmp_path, "sft-dart-0"):
        stats = fine_tune(ModelSource(str(tiny)), rows, run_spec.sft, out)
    scalars = tensorboard_scalars(tmp_path / "tracking/tensorboard/sft-dart-0")
    losses = scalars["sft/dart/seed-0/loss"]
    assert [step for step, _ in losses] == [1, 2, 3] and all(v > 0 for _, v in losses)
    assert scalars["sft/dart/seed-0/train_loss"] == [(3, pytest.approx(stats["train_loss"]))]


def test_final_accuracies_reach_the_tracker_through_the_evaluate_unit(tmp_path, tiny):
    from dart.local.units import run_unit
    from dart.plan import Unit

    store = tmp_path / "mlruns"
    run_spec = spec(str(tiny), tracking={"backend": "mlflow",
                                         "mlflow": {"trackingUri": str(store)}},
                    evaluate={"maxNewTokens": 8})
    run_unit(run_spec, tmp_path, Unit(name="evaluate", stage="evaluate"))
    results = read_json(Artifacts(tmp_path).results)
    runs = mlflow_runs(store.as_uri(), "demo")
    assert set(runs) == {"evaluate"}
    metrics = runs["evaluate"]["metrics"]
    for name in ("in-domain", "retention", "ood"):
        expected = results["models"]["base"][name]
        assert metrics[f"evaluate/accuracy/base/{name}/mean"] == [(0, expected["accuracy"])]
        assert metrics[f"evaluate/accuracy/base/{name}/std"] == [(0, expected["std"])]

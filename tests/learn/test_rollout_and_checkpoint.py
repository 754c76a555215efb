"""Token alignment of a rollout batch, deterministic data order, crash-safe checkpoints."""

import json

import pytest
import torch

from dart.artifacts import MARKER
from dart.errors import UserError
from dart.learn.checkpoint import LearnPaths, latest_checkpoint, load_checkpoint, publish
from dart.learn.loop import batch_for_step
from dart.learn.rollout import Rollout, RolloutBatch
from dart.rewards import RewardBreakdown

NO_REWARD = RewardBreakdown(total=0, alignment=0, min_token=0, answer_changed=0, missing_answer=0,
                            numbers_changed=0, length=0, repetition=0, copy=0,
                            answer_preserved=True, length_ratio=1.0, repeated_fraction=0.0,
                            numbers_kept=1.0, operations_kept=1.0, operations_changed=0)


def rollout(prompt, completion):
    return Rollout("x", prompt, completion, "", NO_REWARD, "base", [])


def test_completion_mask_marks_exactly_the_predictions_of_rewrite_tokens():
    batch = RolloutBatch([rollout([5, 6, 7], [8, 9]), rollout([5], [8, 9, 10, 11])], 2)
    inputs = batch.model_inputs(pad_id=0)
    assert inputs["input_ids"].tolist() == [[5, 6, 7, 8, 9], [5, 8, 9, 10, 11]]
    assert inputs["attention_mask"].tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1]]
    # token_logprobs[:, t] predicts input_ids[:, t + 1]
    mask = inputs["completion_mask"]
    for row in range(2):
        predicted = inputs["input_ids"][row, 1:][mask[row].bool()].tolist()
        assert predicted == batch.rollouts[row].completion_ids
    assert torch.equal(mask.sum(-1), torch.tensor([2.0, 4.0]))


def test_batches_are_a_function_of_seed_and_step_and_cover_each_epoch():
    items = [{"id": str(i)} for i in range(10)]
    epoch = [i["id"] for step in range(5) for i in batch_for_step(items, step, 2, seed=3)]
    assert sorted(epoch) == [str(i) for i in range(10)]
    assert batch_for_step(items, 7, 2, seed=3) == batch_for_step(items, 7, 2, seed=3)
    assert batch_for_step(items, 5, 2, seed=3) != batch_for_step(items, 5, 2, seed=4)


def test_a_half_written_checkpoint_is_never_chosen(tmp_path):
    paths = LearnPaths(tmp_path)
    for step, complete in ((2, True), (4, True), (6, False)):
        folder = paths.checkpoints / f"step-{step:06d}"
        folder.mkdir(parents=True)
        if complete:
            (folder / MARKER).touch()
    assert latest_checkpoint(paths).name == "step-000004"


def test_publish_marks_stable_only_after_the_write_succeeds(tmp_path):
    paths = LearnPaths(tmp_path)

    def failing_write(folder):
        (folder / "adapter.bin").write_text("half")
        raise OSError("disk full")

    try:
        publish(paths, "step-1", failing_write)
    except OSError:
        pass
    assert not (paths.weights / "step-1").exists()
    good = publish(paths, "step-2", lambda folder: (folder / "adapter.bin").write_text("ok"))
    assert (good / MARKER).exists() and (good / "adapter.bin").read_text() == "ok"


class ZeroEngine:
    """The two things load_checkpoint asks of a DeepSpeed engine before reading anything."""

    def __init__(self, stage: int):
        self.stage, self.loaded = stage, False

    def zero_optimization_stage(self) -> int:
        return self.stage

    def load_checkpoint(self, folder, tag):
        self.loaded = True


def test_a_zero_checkpoint_of_another_rank_count_is_refused_with_the_fix(tmp_path):
    checkpoint = tmp_path / "step-000002"
    checkpoint.mkdir()
    (checkpoint / "trainer_state.json").write_text(json.dumps({"step": 2, "world_size": 2}))
    engine = ZeroEngine(stage=2)
    with pytest.raises(UserError, match="written by 2 learner processes.*run with 2"):
        load_checkpoint(checkpoint, engine)
    assert not engine.loaded

"""Overlapped rollouts without models: the pipeline's ordering contract under random timing,
staleness counting, the stretches between checkpoints, and failures reaching the learner."""

import math
import random
import threading
import time

import pytest

from dart.learn.overlap import PublishedVersions, RolloutPipeline, checkpoint_stretches
from dart.learn.rollout import Rollout, RolloutBatch
from dart.learn.tasks import correctness_reward

NO_REWARD = correctness_reward(True)


def batch_of(*versions: str) -> RolloutBatch:
    return RolloutBatch([Rollout("x", [1], [2], "", NO_REWARD, v, []) for v in versions], 1)


class ServedWeights:
    """What a generator serves: the version of the last publish, read when sampling starts."""

    def __init__(self):
        self.version, self.lock = 0, threading.Lock()


def run_learner(depth: int, steps: int, seed: int) -> dict[int, int]:
    """A learner that publishes after every step, against a pipeline whose sampling and
    updates take random times; returns the weights version each step's batch saw."""
    served, jitter = ServedWeights(), random.Random(seed)

    def collect(step: int) -> RolloutBatch:
        with served.lock:
            version = served.version
        time.sleep(jitter.random() * 0.004)
        return batch_of(str(version))

    seen = {}
    with RolloutPipeline(collect, range(steps), depth) as pipeline:
        for step in range(steps):
            seen[step] = int(pipeline.take(step).rollouts[0].weights_version)
            time.sleep(jitter.random() * 0.004)  # the update
            pipeline.settle(step + 1)
            with served.lock:
                served.version = step + 1  # publish the weights after step + 1 updates
            pipeline.release(step + 1)
    return seen


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_batch_s_is_sampled_with_the_weights_after_step_s_minus_depth_whatever_the_timing(depth):
    for seed in range(5):
        seen = run_learner(depth, steps=8, seed=seed)
        assert seen == {s: max(s - depth, 0) for s in range(8)}, f"seed {seed}"


def test_the_thread_runs_no_further_ahead_than_its_depth():
    started = []

    def collect(step: int) -> RolloutBatch:
        started.append(step)
        return batch_of("base")

    with RolloutPipeline(collect, range(10), depth=2) as pipeline:
        pipeline.take(0)
        time.sleep(0.2)  # ample time to run ahead, were it allowed to
        assert started == [0, 1, 2]
        pipeline.release(1)
        pipeline.take(1)
        time.sleep(0.2)
        assert started == [0, 1, 2, 3]
        pipeline.release(10)
        for step in range(2, 10):
            pipeline.take(step)
    assert started == list(range(10))


def test_a_failed_collection_reaches_the_learner():
    def collect(step: int) -> RolloutBatch:
        if step == 2:
            raise ConnectionError("generator gone")
        return batch_of("base")

    with pytest.raises(ConnectionError, match="generator gone"):
        with RolloutPipeline(collect, range(5), depth=1) as pipeline:
            for step in range(5):
                pipeline.take(step)
                pipeline.release(step + 1)


def test_staleness_counts_publishes_since_the_oldest_version_in_the_batch():
    versions = PublishedVersions("base")
    assert versions.staleness(batch_of("base")) == 0
    versions.published("step-2")
    versions.published("step-2")  # published again (a recovery): not a new version
    versions.published("step-4")
    assert versions.staleness(batch_of("step-4", "step-4")) == 0
    assert versions.staleness(batch_of("step-4", "step-2")) == 1
    assert versions.staleness(batch_of("base", "step-4")) == 2
    assert versions.staleness(batch_of("step-3")) == math.inf  # never published here


def test_stretches_end_at_every_checkpoint_and_at_the_last_step():
    assert list(checkpoint_stretches(0, 7, 3)) == [range(0, 3), range(3, 6), range(6, 7)]
    assert list(checkpoint_stretches(3, 7, 3)) == [range(3, 6), range(6, 7)]
    assert list(checkpoint_stretches(7, 7, 3)) == []
    assert list(checkpoint_stretches(0, 4, 50)) == [range(0, 4)]

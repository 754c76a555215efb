"""Overlapped rollouts (learn.maxStaleness = N >= 1): the generator samples ahead while the
learner updates, and no rollout more than N published versions old is trained on.

A background thread collects the batches of the coming steps in order. Batch s may start
only once the learner has finished step s - N - 1 (published what it had to), and the learner
publishes after step t only once batch t + N is collected: so batch s is always sampled with
the weights published after step s - N - 1, whatever the timing, and a run is reproducible.
Its staleness at step s is the number of publishes after steps s - N .. s - 1: at most N.

A pipeline never crosses a checkpoint: the loop runs one per stretch between checkpoints and
publishes at each checkpoint, so after a checkpoint nothing is in flight and the generator
serves the checkpoint's weights, exactly what a run resumed from it starts with.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator

from dart.learn.rollout import RolloutBatch


class RolloutPipeline:
    """Collects `collect(step)` for every step of `steps` on a thread, at most `depth` steps
    ahead of the steps the learner has released."""

    def __init__(self, collect: Callable[[int], RolloutBatch], steps: range, depth: int):
        self._collect, self._steps, self._depth = collect, steps, depth
        self._released = steps.start  # steps the learner has finished, publish included
        self._collected = steps.start  # the next step the thread collects
        self._ready: dict[int, RolloutBatch] = {}
        self._error: BaseException | None = None
        self._stopping = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="rollouts", daemon=True)

    def __enter__(self) -> RolloutPipeline:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if exc[0] is None:
            self._thread.join()
        # On an error the thread is left to finish its current batch on its own (daemon): a
        # learner that failed must not wait out a batch of sampling before it reports.

    def take(self, step: int) -> RolloutBatch:
        """The batch of `step`, once collected."""
        with self._changed:
            self._changed.wait_for(lambda: step in self._ready or self._error is not None)
            self._raise_failure()
            return self._ready.pop(step)

    def settle(self, done: int) -> None:
        """Before the weights change after `done` steps: wait for every batch the thread may
        sample with the weights served now (steps up to done + depth - 1)."""
        upto = min(done + self._depth, self._steps.stop)
        with self._changed:
            self._changed.wait_for(lambda: self._collected >= upto or self._error is not None)
            self._raise_failure()

    def release(self, done: int) -> None:
        """`done` steps are finished, publish included: the thread may run ahead of them."""
        with self._changed:
            self._released = done
            self._changed.notify_all()

    def _run(self) -> None:
        try:
            for step in self._steps:
                with self._changed:
                    self._changed.wait_for(
                        lambda s=step: self._stopping or self._released >= s - self._depth)
                    if self._stopping:
                        return
                batch = self._collect(step)
                with self._changed:
                    self._ready[step], self._collected = batch, step + 1
                    self._changed.notify_all()
        except BaseException as error:  # re-raised in the learner's thread by take/settle
            with self._changed:
                self._error = error
                self._changed.notify_all()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error


class PublishedVersions:
    """The weights versions the generator has been given, oldest first."""

    def __init__(self, current: str):
        self._order = {current: 0}
        self._latest = current

    def published(self, version: str) -> None:
        if version != self._latest:
            self._order[version] = len(self._order)
            self._latest = version

    def staleness(self, batch: RolloutBatch) -> float:
        """Publishes since the oldest version in the batch; inf for a version never
        published by this learner (a generator restarted on its initial weights, say)."""
        newest = self._order[self._latest]
        return max(newest - self._order[r.weights_version] if r.weights_version in self._order
                   else math.inf for r in batch.rollouts)


def checkpoint_stretches(start: int, steps: int, checkpoint_every: int) -> Iterator[range]:
    """The steps between checkpoints: a checkpoint follows every `checkpoint_every` steps
    done and the last one."""
    first = start
    while first < steps:
        end = min((first // checkpoint_every + 1) * checkpoint_every, steps)
        yield range(first, end)
        first = end

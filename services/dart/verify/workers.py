"""Run calls in worker processes with a hard per-call timeout.

math-verify's own timeout uses SIGALRM, which only works in a main thread; inside a server or
a learner it would either not fire or not be allowed. A separate process can always be killed,
so a pathological expression costs at most `timeout` seconds and never hangs the caller.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Sequence
from multiprocessing.pool import Pool
from typing import Any

TIMED_OUT = object()
"""Placeholder result of a call that did not finish in time."""

STARTUP_TIMEOUT = 120.0  # spawning workers and importing sympy is slow on a busy machine


class WorkerPool:
    """A lazily started pool of spawned processes; a stuck call restarts the pool."""

    def __init__(self, workers: int = 2, timeout: float = 5.0, initializer=None):
        self.workers, self.timeout, self.initializer = workers, timeout, initializer
        self._pool: Pool | None = None
        # Callers on several threads (the learner scores each group as it finishes) must not
        # start two pools, nor have one caller's timeout kill the pool another is using.
        self._lock = threading.Lock()

    def run(self, func: Callable, calls: Sequence[tuple]) -> list[Any]:
        """`func(*args)` for every args tuple, in order; TIMED_OUT where one ran too long."""
        results: list[Any] = []
        with self._lock:
            while len(results) < len(calls):
                results += self._run_until_timeout(func, calls[len(results):])
        return results

    def _run_until_timeout(self, func: Callable, calls: Sequence[tuple]) -> list[Any]:
        """Collect results in order; at the first timeout, kill the pool and stop there."""
        pending = [self._started().apply_async(func, args) for args in calls]
        results = []
        for handle in pending:
            try:
                results.append(handle.get(timeout=self.timeout))
            except multiprocessing.TimeoutError:
                self.close()  # the stuck process cannot be interrupted, only killed
                return results + [TIMED_OUT]
        return results

    def _started(self) -> Pool:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(self.workers, initializer=self.initializer)
            # Wait out the start-up once, so it never counts against a call's timeout.
            self._pool.map_async(_ready, range(self.workers)).get(STARTUP_TIMEOUT)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def _ready(_: int) -> bool:
    return True

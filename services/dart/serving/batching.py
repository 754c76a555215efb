"""Dynamic batching: rows from concurrent requests share one forward pass.

A batch closes when it holds `max_rows` rows or when its first row has waited `max_wait_s`;
rows that arrive while a batch runs form the next one. Batches run one at a time on a single
worker thread (torch releases the GIL), so the event loop keeps accepting requests meanwhile.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

RunBatch = Callable[[list[Any]], Sequence[Any]]


class DynamicBatcher:
    def __init__(self, run_batch: RunBatch, *, max_rows: int, max_wait_s: float,
                 on_batch: Callable[[int, float], None] = lambda size, seconds: None,
                 on_queue_depth: Callable[[int], None] = lambda depth: None):
        self._run_batch = run_batch
        self._max_rows = max_rows
        self._max_wait_s = max_wait_s
        self._on_batch = on_batch
        self._on_queue_depth = on_queue_depth
        # A deque and an Event rather than asyncio.Queue: on Python 3.11, wait_for(queue.get())
        # can drop an item when the timeout fires as it arrives, and that request would hang.
        self._pending: deque[tuple[Any, asyncio.Future]] = deque()
        self._arrived = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="dart-batch")
        self._task: asyncio.Task | None = None

    async def submit(self, rows: Sequence[Any]) -> list[Any]:
        """Queue the rows and wait for their results, in order."""
        if self._task is None:
            self._task = asyncio.create_task(self._serve_forever(), name="dart-batcher")
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in rows]
        self._pending.extend(zip(rows, futures, strict=True))
        self._arrived.set()
        self._on_queue_depth(len(self._pending))
        return list(await asyncio.gather(*futures))

    async def close(self) -> None:
        """Stop taking batches; the one running finishes first (the thread is joined)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.to_thread(self._executor.shutdown, wait=True)

    async def _serve_forever(self) -> None:
        while True:
            batch = await self._next_batch()
            self._on_queue_depth(len(self._pending))
            await self._execute([(row, fut) for row, fut in batch if not fut.done()])

    async def _next_batch(self) -> list[tuple[Any, asyncio.Future]]:
        while not self._pending:
            await self._rows_arrive()
        deadline = asyncio.get_running_loop().time() + self._max_wait_s
        while len(self._pending) < self._max_rows:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self._rows_arrive(), remaining)
            except TimeoutError:
                break
        take = min(self._max_rows, len(self._pending))
        return [self._pending.popleft() for _ in range(take)]

    async def _rows_arrive(self) -> None:
        self._arrived.clear()
        await self._arrived.wait()

    async def _execute(self, batch: list[tuple[Any, asyncio.Future]]) -> None:
        """Run one batch; a failure fails exactly the requests in it, never the batcher."""
        if not batch:
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            results = await loop.run_in_executor(
                self._executor, self._run_batch, [row for row, _ in batch])
        except Exception as error:  # noqa: BLE001 - handed to every waiting request
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        self._on_batch(len(batch), loop.time() - started)
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

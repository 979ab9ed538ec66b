"""Dynamic batching: the images of concurrent requests wait in one queue and go to the model
together, so throughput under load approaches the batched benchmark rather than batch 1.

The event loop only queues and wakes; the batch function runs in one dedicated thread (the model
and OpenCV release the GIL), so a slow batch never stalls the accepting of requests. While a
batch runs, new images pile up and form the next one; an idle model waits ``timeout_s`` after
the first image for company, at most.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class QueueFull(Exception):
    """More images are waiting than the server accepts (answered 503)."""


class Batcher:
    """Runs ``run_batch(items) -> results`` (same length, same order) over gathered items.

    ``run_batch`` must answer every item (a per-item error is a result, not an exception); if it
    raises anyway, every request in that batch gets the exception.
    """

    def __init__(
        self,
        run_batch: Callable[[list[Any]], Sequence[Any]],
        max_batch_size: int = 32,
        timeout_s: float = 0.002,
        max_queued: int = 2048,
        on_batch: Callable[[int, float], Any] | None = None,
    ) -> None:
        self.run_batch = run_batch
        self.max_batch_size = max(1, int(max_batch_size))
        self.timeout_s = max(0.0, float(timeout_s))
        self.max_queued = int(max_queued)
        self.on_batch = on_batch  # (images in the batch, seconds it took), for metrics
        self.queue: deque[tuple[Any, asyncio.Future]] = deque()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anpr-batch")
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    @property
    def queued(self) -> int:
        return len(self.queue)

    def start(self) -> None:
        """Start the gathering loop on the running event loop."""
        self._wakeup = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="anpr-batcher")

    async def stop(self, drain_s: float = 30.0) -> None:
        """Answer what is queued (for up to ``drain_s``), then stop; the server has stopped taking
        requests by now."""
        deadline = time.monotonic() + drain_s
        while self.queue and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.executor.shutdown(wait=True)

    async def submit(self, items: Sequence[Any]) -> list[Any]:
        """The results of ``items``, once the batches holding them have run."""
        if not items:
            return []
        if len(self.queue) + len(items) > self.max_queued:
            raise QueueFull(f"{len(self.queue)} images are waiting for the model (limit {self.max_queued})")
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in items]
        self.queue.extend(zip(items, futures))
        self._wakeup.set()
        return list(await asyncio.gather(*futures))

    async def run_now(self, items: list[Any]) -> Sequence[Any]:
        """Run one batch in the model thread, outside the queue (the warm-up)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.run_batch, items)

    async def _loop(self) -> None:
        while True:
            if not self.queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            if len(self.queue) < self.max_batch_size and self.timeout_s > 0:
                await self._gather_more()
            batch = [self.queue.popleft() for _ in range(min(self.max_batch_size, len(self.queue)))]
            await self._run(batch)

    async def _gather_more(self) -> None:
        """Wait up to ``timeout_s`` for the batch to fill (returns as soon as it is full)."""
        deadline = time.monotonic() + self.timeout_s
        while len(self.queue) < self.max_batch_size:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), left)
            except asyncio.TimeoutError:
                return

    async def _run(self, batch: list[tuple[Any, asyncio.Future]]) -> None:
        items = [item for item, _ in batch]
        start = time.perf_counter()
        try:
            results = await self.run_now(items)
        except Exception as err:  # a bug in the batch function: every waiting request learns of it
            for _, future in batch:
                if not future.done():
                    future.set_exception(err)
            return
        if self.on_batch is not None:
            self.on_batch(len(items), time.perf_counter() - start)
        for (_, future), result in zip(batch, results):
            if not future.done():  # a request whose client went away was cancelled
                future.set_result(result)

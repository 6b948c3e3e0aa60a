"""The pool's idle workers: a free list that hands out warm spares first, and the bounded wait for one.

A warm spare was reset to `empty` when its last lease ended, so a new `empty` scene on it needs no
reset. Callers that find no free worker wait, at most `queue_wait_s`, and at most `queue_limit` of
them at once: past either the pool answers PoolExhausted instead of queueing without end.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from gateway.config import PoolConfig
from gateway.errors import PoolExhausted
from gateway.workers.process_worker import Worker

__all__ = ["FreeList"]


class FreeList:
    """Idle workers in the order they came back, the warm ones marked; `changed` wakes the waiters."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self._free: list[Worker] = []
        self._warm: set[Worker] = set()
        self._changed = asyncio.Condition()
        self.waiting = 0

    def __len__(self) -> int:
        return len(self._free)

    def __contains__(self, worker: Worker) -> bool:
        return worker in self._free

    def workers(self) -> list[Worker]:
        """The idle workers now (a copy: checking them may take some off the list)."""
        return list(self._free)

    def is_warm(self, worker: Worker) -> bool:
        return worker in self._warm

    def cool(self, worker: Worker) -> None:
        """The worker no longer holds an untouched `empty` scene (it was leased or is being restored onto)."""
        self._warm.discard(worker)

    def take(self, prefer_warm: bool) -> Worker:
        """Take a worker off the free list (not empty): a warm spare, needing no reset, first when asked."""
        warm = [w for w in self._free if w in self._warm] if prefer_warm else []
        worker = (warm or self._free)[0]
        self._free.remove(worker)
        return worker

    async def put(self, worker: Worker, warm: bool) -> None:
        """Offer the worker (once) and wake the waiters."""
        async with self._changed:
            if warm:
                self._warm.add(worker)
            if worker not in self._free:
                self._free.append(worker)
            self._changed.notify_all()

    def drop(self, worker: Worker) -> None:
        """Take a worker that stopped answering off the list, warm or not."""
        if worker in self._free:
            self._free.remove(worker)
        self._warm.discard(worker)

    def clear(self) -> None:
        self._free.clear()

    async def wait_ready(self, timeout_s: float, count: int) -> int:
        """Wait until `count` workers are free (or the timeout); returns how many are free."""
        deadline = time.monotonic() + timeout_s
        async with self._changed:
            while len(self._free) < count and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
        return len(self._free)

    async def acquire(self, prefer_warm: bool, size: int, leased: Callable[[], int]) -> Worker:
        """A free worker, waiting (bounded) for one; PoolExhausted says how many of the `size` are `leased`."""
        async with self._changed:
            if not self._free and self.waiting >= self.config.queue_limit:
                raise PoolExhausted(
                    f"all {size} workers are leased and {self.waiting} requests already wait; "
                    "release a scene (release_scene) or retry later"
                )
            self.waiting += 1
            try:
                deadline = time.monotonic() + self.config.queue_wait_s
                while not self._free:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise PoolExhausted(
                            f"no worker became free within {self.config.queue_wait_s:g} s "
                            f"({leased()} scenes leased on {size} workers); "
                            "release a scene (release_scene) or retry later"
                        )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), remaining)
            finally:
                self.waiting -= 1
            return self.take(prefer_warm)

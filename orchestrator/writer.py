"""Writing an attempt's files off the loop's critical path, in order.

An iteration's artifacts and checkpoint take a few milliseconds of disk and JSON. The loop hands
them to one writer thread and goes on to the next iteration, where the worker executes and
renders for tens of milliseconds while the coordinator only waits. Writes land in the order they
were submitted, and a failed write surfaces at the next submit or at `close`, which the loop
awaits before the attempt ends. A process killed before a write landed resumes from the previous
checkpoint and runs that iteration again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["SerialWriter"]


class SerialWriter:
    def __init__(self, name: str = "colossus-writer") -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: list[Future[Any]] = []

    def submit(self, write: Callable[..., Any], *args: Any) -> None:
        """Queue `write(*args)`; raises the error of an earlier write that failed."""
        self._raise_failed()
        self._pending.append(self._executor.submit(write, *args))

    async def close(self) -> None:
        """Wait for every queued write, then stop the thread; raises the first failure."""
        try:
            for future in self._pending:
                await asyncio.wrap_future(future)
        finally:
            self._pending = []
            self._executor.shutdown(wait=True)

    def _raise_failed(self) -> None:
        done = [f for f in self._pending if f.done()]
        self._pending = [f for f in self._pending if not f.done()]
        for future in done:
            future.result()

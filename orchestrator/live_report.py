"""report.html while a run goes on: rewritten after completed iterations, throttled, off the event loop.

Each rewrite renders the page from the attempts' states in memory (no artifact is read back
from disk) and lands through `write_atomic`, so a `file://` viewer never sees half a page. Writes
are coalesced: at most one per `interval_s`, each from the newest states; the first comes right
after the first iteration. The page grows with the run (a write took 1.5 ms at 20 iterations and
9 ms at 60, bench/loop.py), so the gap after a write is also at least its own time ÷ MAX_SHARE:
the live page never takes more than that share of the run's time.

The page is built and written in a worker thread from a snapshot of the states taken on the loop
(the steps themselves no longer change once their iteration is over). `close` stops it before the
coordinator writes the final report, so a late live write never replaces the final one. `writes`
and `write_s` are its measured cost (summary.json's `live_report`, bench/loop.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from orchestrator.artifacts import RunFolder
from orchestrator.report import write_report
from orchestrator.state import AttemptState
from orchestrator.task import Task

__all__ = ["LiveReport", "LIVE_INTERVAL_S"]

LIVE_INTERVAL_S = 1.0  # an iteration takes 0.1-0.3 s at the loop's resolutions: one write per one to ten of them
MAX_SHARE = 0.02  # of the run's time spent writing the live page, at most

Snapshot = Callable[[], tuple[dict[int, AttemptState], dict[str, Any] | None]]


class LiveReport:
    def __init__(self, folder: RunFolder, task: Task, threshold: float, snapshot: Snapshot,
                 interval_s: float = LIVE_INTERVAL_S) -> None:
        """`snapshot()` returns the attempts' states and the best so far (attempt, iteration, score) as now."""
        self.folder, self.task, self.threshold, self.snapshot = folder, task, threshold, snapshot
        self.interval_s = interval_s
        self.writes, self.write_s = 0, 0.0
        self.error: str | None = None
        self._lock = threading.Lock()  # a write in the thread against close()
        self._closed = False
        self._dirty = False
        self._timer: asyncio.TimerHandle | None = None
        self._writing: asyncio.Future[None] | None = None
        self._next = -float("inf")  # time.monotonic() before which no write starts

    def changed(self) -> None:
        """An iteration completed: write soon (now, or when the interval since the last write is up)."""
        if self._closed:
            return
        if self._timer is not None or self._writing is not None:
            self._dirty = True  # the pending write, or the one after the write in flight, takes it
            return
        self._schedule()

    def _schedule(self) -> None:
        delay = max(0.0, self._next - time.monotonic())
        self._timer = asyncio.get_running_loop().call_later(delay, self._start)

    def _start(self) -> None:
        self._timer, self._dirty = None, False
        if self._closed:
            return
        states, best = self.snapshot()
        frozen = {i: s.model_copy(update={"memory": s.memory.model_copy(update={"steps": list(s.memory.steps)})})
                  for i, s in states.items()}
        self._next = time.monotonic() + self.interval_s
        self._writing = asyncio.ensure_future(asyncio.to_thread(self._write, frozen, best))
        self._writing.add_done_callback(self._written)

    def _write(self, states: dict[int, AttemptState], best: dict[str, Any] | None) -> None:
        with self._lock:
            if self._closed:
                return
            started = time.perf_counter()
            write_report(self.folder, self.task, states, best, self.threshold, live=True)
            took = time.perf_counter() - started
            self.write_s += took
            self.writes += 1
            self._next = max(self._next, time.monotonic() + took / MAX_SHARE)

    def _written(self, future: asyncio.Future[None]) -> None:
        self._writing = None
        if not future.cancelled() and (e := future.exception()) is not None:
            self._closed = True  # a live page is a nicety: stop trying, the run and its final report go on
            self.error = f"{type(e).__name__}: {e}"
            return
        if self._dirty and not self._closed:
            self._schedule()

    def close(self) -> dict[str, Any]:
        """No more live writes (waits for one in flight, a few ms); returns the cost measured."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        with self._lock:
            self._closed = True
        return {"writes": self.writes, "write_s": round(self.write_s, 4), "error": self.error}

"""Keeps this worker under its memory limit from the inside, so a snippet that asks for too much
fails with a MemoryError and the scene survives, instead of the gateway killing the worker.

The limit is COLOSSUS_WORKER_MEMORY_MB (the pool's `memory_limit_mb`). Both layers are set once
the worker is ready, after `import bpy` and the first baseline load: bpy maps ~2 GB of address
space at import while ~400 MB is resident, so only what the process maps *then* is a baseline.

1. POSIX: RLIMIT_AS at what the process maps then plus (limit − resident then) plus a little room
   for thread stacks. An allocation that would pass the limit fails where it is made: a
   MemoryError in Python code and numpy, raised before the memory is touched. Not where a GPU
   compute driver is installed (it reserves huge address ranges when Cycles starts it).
2. Everywhere: while a snippet runs, a watchdog thread samples resident memory every 10 ms; above
   the limit it raises MemoryError in the main thread, at its next bytecode: an allocation in
   flight (one big block) completes first, so alone it overshoots by about that block. A
   snippet that does not come back within KILL_AFTER_S (stuck in C code) ends the worker, which the gateway restarts and restores; the
   reason is left in the workdir (harness.launcher.MEMORY_EXIT_NOTE) for the gateway to report.

The gateway's own resident-memory watch (gateway/workers/pool.py) stays as the last line.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from harness.launcher import MEMORY_ENV, MEMORY_EXIT_NOTE
from harness.platform_calls import MainThreadInterrupt, limit_address_space, portable

__all__ = ["MemoryGuard", "WorkerOutOfMemory", "SAMPLE_S", "KILL_AFTER_S"]

SAMPLE_S = 0.01
KILL_AFTER_S = 2.0
STACK_SLACK_MB = 64  # thread stacks and allocator arenas Blender maps later without touching them
EXIT_CODE = 3


def _gpu_driver() -> str | None:
    """A GPU compute driver on this machine (CUDA, ROCm): they reserve tens of GB of address space
    at start, so an address-space limit would break GPU rendering; the watchdog alone holds then."""
    if sys.platform.startswith("linux"):
        for device, name in (("/dev/nvidiactl", "the NVIDIA driver"), ("/dev/kfd", "the ROCm driver")):
            if os.path.exists(device):
                return name
    return None


class WorkerOutOfMemory(MemoryError):
    """Raised in the main thread by the watchdog when resident memory passed the worker's limit."""


class MemoryGuard:
    """One per worker; `watching()` wraps each snippet. `mechanism` says what holds the limit."""

    def __init__(self, limit_mb: int | None, workdir: Path) -> None:
        self.limit_mb = limit_mb
        self.workdir = workdir
        self.mechanism = "none (no memory limit given)"
        self._interrupt = MainThreadInterrupt()
        self._running = threading.Event()

    @classmethod
    def from_env(cls, workdir: Path) -> MemoryGuard:
        value = os.environ.get(MEMORY_ENV)
        return cls(int(value) if value else None, workdir)

    def install(self) -> str:
        """Set the limit up (call once the worker is ready); returns `mechanism`."""
        if self.limit_mb is None:
            return self.mechanism
        me = psutil.Process()
        headroom = (self.limit_mb + STACK_SLACK_MB) * 2**20 - me.memory_info().rss
        gpu = _gpu_driver()
        cap = None if gpu else limit_address_space(headroom)
        layers = [f"address-space limit (RLIMIT_AS) at {cap / 2**20:.0f} MiB"] if cap is not None else []
        layers.append(f"resident-memory watchdog every {SAMPLE_S * 1000:.0f} ms")
        forced = portable() and sys.platform != "win32"
        why = ("" if cap is not None else f" (RLIMIT_AS off: {gpu} maps large address ranges)" if gpu
               else " (RLIMIT_AS off: COLOSSUS_PORTABLE)" if forced else " (no RLIMIT_AS here)")
        self.mechanism = f"{' + '.join(layers)}, limit {self.limit_mb} MiB{why}"
        threading.Thread(target=self._watch, args=(me,), name="memory-guard", daemon=True).start()
        return self.mechanism

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Around a snippet: the watchdog samples (and may interrupt) only inside this block."""
        with self._interrupt.armed():
            self._running.set()
            try:
                yield
            finally:
                self._running.clear()

    def _watch(self, me: psutil.Process) -> None:
        assert self.limit_mb is not None
        limit = self.limit_mb * 2**20
        over_since: float | None = None
        while True:
            self._running.wait()
            time.sleep(SAMPLE_S)
            try:
                rss = me.memory_info().rss
            except psutil.Error:
                continue
            if rss <= limit or not self._running.is_set():
                over_since = None
                continue
            now = time.monotonic()
            if over_since is None:
                over_since = now
                self._interrupt.fire(WorkerOutOfMemory)
            elif now - over_since > KILL_AFTER_S:
                self._exit(rss)

    def _exit(self, rss: int) -> None:
        note = (f"the worker used {rss / 2**20:.0f} MiB, above its {self.limit_mb} MiB limit, inside code that "
                f"did not stop within {KILL_AFTER_S:g} s of being interrupted; it ended itself")
        with contextlib.suppress(OSError):
            (self.workdir / MEMORY_EXIT_NOTE).write_text(note)
        print(f"[WORKER_MEMORY] {note}", file=sys.stderr, flush=True)
        os._exit(EXIT_CODE)

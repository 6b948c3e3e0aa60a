"""The few calls where POSIX has a better tool than every platform has, each with a portable fallback.

Used by the worker (servers.blender_primary) and the pool (gateway). On Linux and macOS:
- an alarm signal (`setitimer`) interrupts the main thread even inside a blocking call such as
  `time.sleep`; the fallback is a watchdog thread that raises the exception in the main thread
  (`PyThreadState_SetAsyncExc`), which takes effect at the next Python bytecode;
- a process-group kill reaches children that left the tree; the fallback kills the tree psutil
  sees, children first;
- RLIMIT_AS turns an over-large allocation into a MemoryError at the allocation; the fallback is
  none here (the worker's RSS watchdog, servers/blender_primary/memory_guard.py, still runs);
- a new session for a spawned worker, SIGTERM through the event loop, and (Linux) a kernel signal
  when the parent dies; the fallbacks: a new process group, a plain signal handler, and the
  worker's parent-pid poll (servers/blender_primary/parent_watch.py).

Setting COLOSSUS_PORTABLE=1 forces every fallback on any platform: the tests run them on Linux.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import psutil

__all__ = ["PORTABLE_ENV", "portable", "MainThreadInterrupt", "interrupt_main_after", "kill_tree",
           "limit_address_space", "on_terminate", "die_with_parent", "new_session"]

PORTABLE_ENV = "COLOSSUS_PORTABLE"
PR_SET_PDEATHSIG = 1


def portable() -> bool:
    """Whether the portable fallbacks are in use: forced by COLOSSUS_PORTABLE=1, or no POSIX calls here."""
    return os.environ.get(PORTABLE_ENV, "") not in ("", "0") or not hasattr(signal, "setitimer")


class MainThreadInterrupt:
    """Raises an exception in the main thread from another thread, but only while armed.

    Armed around a snippet: a timeout or the memory watchdog firing after the snippet ended must
    not land in the server's event loop, so disarming also drops an exception not yet raised.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed = False
        self._main = threading.main_thread().ident

    @contextlib.contextmanager
    def armed(self) -> Iterator[None]:
        with self._lock:
            self._armed = True
        try:
            yield
        finally:
            with self._lock:
                self._armed = False
                _set_async_exc(self._main, None)

    def fire(self, exc_type: type[BaseException]) -> bool:
        """Raise `exc_type` in the main thread at its next bytecode; False when not armed."""
        with self._lock:
            if not self._armed:
                return False
            return _set_async_exc(self._main, exc_type)


def _set_async_exc(thread_id: int | None, exc_type: type[BaseException] | None) -> bool:
    if thread_id is None:
        return False
    set_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    return set_exc(ctypes.c_ulong(thread_id), ctypes.py_object(exc_type) if exc_type else None) == 1


@contextlib.contextmanager
def interrupt_main_after(timeout_s: float, exc_type: type[BaseException]) -> Iterator[None]:
    """Raise `exc_type` in the main thread once `timeout_s` passed inside this block (main thread only).

    POSIX: an alarm signal, which also ends a blocking call; it restores a timer armed before
    (e.g. pytest-timeout). Portable: a watchdog thread; a blocking call ends only when it returns.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if portable():
        with _watchdog_interrupt(timeout_s, exc_type):
            yield
        return

    def on_alarm(_signum: int, _frame: object) -> None:
        raise exc_type()

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_delay, _ = signal.setitimer(signal.ITIMER_REAL, timeout_s)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:
            signal.setitimer(signal.ITIMER_REAL, max(previous_delay - (time.monotonic() - started), 0.001))


@contextlib.contextmanager
def _watchdog_interrupt(timeout_s: float, exc_type: type[BaseException]) -> Iterator[None]:
    interrupt = MainThreadInterrupt()
    done = threading.Event()

    def watch() -> None:
        if not done.wait(timeout_s):
            interrupt.fire(exc_type)

    with interrupt.armed():
        watcher = threading.Thread(target=watch, name="snippet-timeout", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
    watcher.join()


def kill_tree(pid: int) -> None:
    """Kill a process and everything under it at once (SIGKILL / TerminateProcess); gone ones are skipped."""
    try:
        root = psutil.Process(pid)
        members = [*root.children(recursive=True), root]  # listed before any dies and its children move away
    except psutil.Error:
        members = []
    if not portable():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # a worker in its own session: its group, strays included
    for proc in members:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    if not members:  # not visible to psutil (already reaped, or another user's): a plain kill as a last try
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.kill(pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)


def limit_address_space(headroom_bytes: int) -> int | None:
    """Cap this process's address space at what it maps now plus `headroom_bytes`; the cap, or None
    where RLIMIT_AS is unavailable (Windows, or the portable switch) or refused."""
    if portable() or sys.platform == "win32":
        return None
    try:
        import resource  # noqa: PLC0415 - POSIX only
    except ImportError:
        return None
    cap = psutil.Process().memory_info().vms + max(headroom_bytes, 0)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError):
        return None
    return cap


def on_terminate(callback: Callable[[], object]) -> None:
    """Call `callback` in the running event loop on SIGTERM (where the platform has it)."""
    loop = asyncio.get_running_loop()
    if not portable():
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, callback)
            return
    with contextlib.suppress(ValueError, OSError):  # not the main thread, or no SIGTERM to catch
        signal.signal(signal.SIGTERM, lambda _signum, _frame: loop.call_soon_threadsafe(callback))


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (PR_SET_PDEATHSIG); elsewhere nothing."""
    if portable() or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def new_session() -> dict[str, object]:
    """Popen arguments that detach a child from our terminal's signals: its own session on POSIX, its own
    process group on Windows."""
    if sys.platform == "win32":
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    return {"start_new_session": True}

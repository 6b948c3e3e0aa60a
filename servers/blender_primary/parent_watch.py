"""Ends this worker when the process that started it (the gateway) goes away.

A worker lives in its own session (so the gateway can kill its process group), which also means
it gets no signal when the gateway dies. On Linux the kernel sends SIGKILL on parent death
(PR_SET_PDEATHSIG); everywhere a daemon thread also polls the parent id, which works even while
the main thread is stuck in a snippet.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["watch_parent"]

PR_SET_PDEATHSIG = 1
POLL_S = 0.5


def watch_parent() -> None:
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the kernel hook was in place
        os._exit(1)

    def poll() -> None:
        while True:
            time.sleep(POLL_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=poll, name="parent-watch", daemon=True).start()

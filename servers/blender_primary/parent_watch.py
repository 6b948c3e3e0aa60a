"""Ends this worker when the process that started it (the gateway) goes away.

A worker lives in its own session (so a Ctrl-C at the gateway's terminal does not reach it),
which also means it gets no signal when the gateway dies. On Linux the kernel kills it on parent
death (harness.platform_calls.die_with_parent); everywhere a daemon thread also polls the parent
id (and, since Windows never re-parents an orphan, whether that process still exists), which
works even while the main thread is stuck in a snippet.
"""

from __future__ import annotations

import os
import threading
import time

import psutil

from harness.launcher import PARENT_ENV
from harness.platform_calls import die_with_parent

__all__ = ["watch_parent"]

POLL_S = 0.5


def watch_parent() -> None:
    """`COLOSSUS_PARENT_PID` names the parent the launcher meant: one that died while this process was
    still starting (it can take seconds under load) is noticed at once, not taken for the new parent."""
    parent = int(os.environ.get(PARENT_ENV) or os.getppid())
    die_with_parent()
    if os.getppid() != parent:  # the parent died before the kernel hook was in place
        os._exit(1)

    def poll() -> None:
        while True:
            time.sleep(POLL_S)
            if os.getppid() != parent or not psutil.pid_exists(parent):
                os._exit(1)

    threading.Thread(target=poll, name="parent-watch", daemon=True).start()

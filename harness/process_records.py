"""Who owns something, recorded so another process can tell whether that owner still runs.

A pid alone is not enough, since pids are reused: the record holds the process's start time and
host too. Run folders (orchestrator.owner) and temporary folders (gateway.workers.folder_owners) use it.
"""

from __future__ import annotations

import socket
from typing import Any

import psutil

__all__ = ["this_process", "is_running"]


def this_process() -> dict[str, Any]:
    return {"pid": psutil.Process().pid, "started": psutil.Process().create_time(), "host": socket.gethostname()}


def is_running(owner: dict[str, Any]) -> bool:
    """The recorded process (this machine's) still runs: same pid and same start time. One we may not
    inspect counts as running, since it cannot be told apart; a malformed record does not."""
    try:
        return abs(psutil.Process(int(owner["pid"])).create_time() - float(owner["started"])) < 0.01
    except psutil.AccessDenied:
        return True
    except (psutil.Error, KeyError, TypeError, ValueError):
        return False

"""Which process is running a run: run.json's `owner`, so another process can tell a run going on
elsewhere (a `colossus run` beside a gateway) from one whose process died (interrupted, resumable).

A pid alone is not enough, since pids are reused: the process's start time must match too
(harness.process_records).
"""

from __future__ import annotations

import socket
from typing import Any

import psutil

from harness.process_records import is_running, this_process

__all__ = ["this_process", "runs_elsewhere"]


def runs_elsewhere(owner: dict[str, Any] | None) -> bool:
    """The owner is another live process on this machine (a folder shared from another host cannot be told)."""
    if not owner or owner.get("host") != socket.gethostname() or owner.get("pid") == psutil.Process().pid:
        return False
    return is_running(owner)


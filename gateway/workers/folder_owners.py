"""Temporary folders that name their owner, so the next gateway can remove those of dead ones.

A gateway killed with SIGKILL (or a Ray node lost with its actor) cannot clean up after itself:
its pool folder (`colossus-pool-*`, holding the workers' `blender_*` session folders) stays in
the temp dir. Each such folder gets an OWNER_FILE naming the process that made it (host, pid and
start time, see harness.process_records: a recycled pid is not the owner). At start,
`reap_orphans` removes the folders whose owner is gone, and only those: a folder without the
record, from another host, or whose owner still runs (or cannot be inspected), is left alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import tempfile
from pathlib import Path

from harness.process_records import is_running, this_process

__all__ = ["OWNER_FILE", "claim", "owner_alive", "reap_orphans", "fresh_temp_folder", "adopt"]

log = logging.getLogger(__name__)

OWNER_FILE = ".colossus-owner.json"


def claim(folder: Path) -> None:
    """Record this process as the owner of `folder` (written to a temp name, then renamed)."""
    tmp = folder / f"{OWNER_FILE}.tmp"
    tmp.write_text(json.dumps(this_process()))
    tmp.replace(folder / OWNER_FILE)


def owner_alive(folder: Path) -> bool | None:
    """True / False when the folder records an owner on this machine that runs / has ended; None without
    a readable record, or for one written on another host (a shared disk): neither can be told."""
    try:
        record = json.loads((folder / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("host") != socket.gethostname():
        return None
    return is_running(record)


def reap_orphans(parent: Path, pattern: str) -> list[Path]:
    """Remove the folders in `parent` matching `pattern` whose recorded owner has ended; returns them."""
    removed = []
    with contextlib.suppress(OSError):
        for folder in parent.glob(pattern):
            if folder.is_dir() and owner_alive(folder) is False:
                shutil.rmtree(folder, ignore_errors=True)
                if not folder.exists():
                    removed.append(folder)
    if removed:
        log.info("removed %d folder(s) left by ended gateways: %s", len(removed), ", ".join(p.name for p in removed))
    return removed


def fresh_temp_folder(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A new temp folder owned by this process, after removing the `prefix*` ones whose owner ended."""
    reap_orphans(Path(tempfile.gettempdir()), f"{prefix}*")
    folder = tempfile.TemporaryDirectory(prefix=prefix)
    claim(Path(folder.name))
    return folder


def adopt(workdir: Path, leftovers: str) -> None:
    """Take over a configured folder: when its recorded owner ended, first remove what it left
    (`leftovers`, a glob such as a killed worker's TMPDIR); then record this process as the owner."""
    if owner_alive(workdir) is False:
        for stale in workdir.glob(leftovers):
            shutil.rmtree(stale, ignore_errors=True)
    claim(workdir)

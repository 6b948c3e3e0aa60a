"""A .blend file as a baseline the pool's workers can reset to (a task's `start.baseline` path).

The file is copied into the baselines folder the pool's local workers share, under the
content-addressed id `task-<sha256 prefix>`: the same file always gets the same id (a resumed
run finds it again, a second run copies nothing) and two different files never share one.
Ray workers get the file from that folder as bytes when they first reset to it (gateway.workers.ray_worker).
Remote workers have their own disk and never see that folder, so a pool with remote workers
refuses: build the scene on them and save it with `save_baseline`, then name that id instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from gateway.errors import BadRequest
from gateway.workers.pool import Pool

__all__ = ["ID_PREFIX", "import_blend"]

ID_PREFIX = "task-"
_DIGEST_CHARS = 16


async def import_blend(pool: Pool, blend: Path) -> str:
    """Copy `blend` into the pool's shared baselines folder; returns the baseline id to lease with."""
    remote = [w.spec.label for w in pool.workers if not w.spec.local]
    if remote:
        raise BadRequest(
            f"a .blend baseline ({blend.name}) needs local workers: the remote workers {', '.join(remote)} "
            "do not share this pool's baselines folder; save the scene on them with save_baseline and "
            "name that baseline id instead")
    return await asyncio.to_thread(_copy_in, Path(blend), pool.baselines_dir)


def _copy_in(blend: Path, folder: Path) -> str:
    # hash the copy, not the source: the id then names exactly the bytes the workers will load
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".import.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(blend, tmp)
        with open(tmp, "rb") as f:
            baseline_id = ID_PREFIX + hashlib.file_digest(f, "sha256").hexdigest()[:_DIGEST_CHARS]
        os.replace(tmp, folder / f"{baseline_id}.blend")  # atomic: a worker never reads half a file
    finally:
        Path(tmp).unlink(missing_ok=True)
    return baseline_id

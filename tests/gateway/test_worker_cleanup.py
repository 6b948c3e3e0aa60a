"""A Blender worker the gateway kills (hung, or found dead) leaves no blender_* temporary folder.

Blender removes its session folder only when it exits cleanly; each worker gets its own TMPDIR
under its workdir so the gateway can remove what a killed one left. Real workers."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from gateway.errors import WorkerCrashed, WorkerTimedOut
from gateway.workers.process_worker import Worker, WorkerSpec
from tests.gateway.conftest import pool_config
from tests.gateway.test_pool import UNINTERRUPTIBLE_HANG


async def _started(workdir: Path) -> tuple[Worker, Path]:
    worker = Worker(WorkerSpec("cleanup", workdir=workdir), pool_config(workdir, workers=1))
    await worker.start()
    sessions = list((workdir / "tmp").glob("blender_*"))
    assert len(sessions) == 1 and sessions[0].is_dir(), "Blender's session folder is not under the worker's TMPDIR"
    return worker, sessions[0]


async def test_a_worker_killed_for_hanging_leaves_no_temporary_folder(tmp_path: Path) -> None:
    worker, session = await _started(tmp_path)
    try:
        with pytest.raises(WorkerTimedOut):
            await worker.call("execute_code", {"code": UNINTERRUPTIBLE_HANG, "timeout_s": 30}, timeout_s=2)
        assert not session.exists() and not list(tmp_path.rglob("blender_*"))
        assert not Path("/tmp", session.name).exists()
    finally:
        await worker.stop()


async def test_a_worker_that_died_is_cleaned_up_when_the_gateway_notices(tmp_path: Path) -> None:
    worker, session = await _started(tmp_path)
    try:
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(WorkerCrashed):
            await worker.call("execute_code", {"code": "pass"}, timeout_s=10)
        assert not session.exists()
        await worker.start()  # the respawn gets a session folder of its own, in the same place
        assert [p.name for p in (tmp_path / "tmp").glob("blender_*")] != [session.name]
    finally:
        await worker.stop()
    assert not (tmp_path / "tmp").exists()

"""Folders left by killed gateways are removed at the next start, and only those whose owner is gone."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

from gateway.config import PoolConfig
from gateway.workers.folder_owners import OWNER_FILE, adopt, claim, owner_alive, reap_orphans
from gateway.workers.pool import Pool


def _dead_pid() -> tuple[int, float]:
    """The pid and start time of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(child.pid).create_time()
    child.wait()
    return child.pid, started


def _owned_by(folder: Path, pid: int, started: float) -> Path:
    folder.mkdir(parents=True)
    (folder / OWNER_FILE).write_text(json.dumps({"pid": pid, "started": started, "host": socket.gethostname()}))
    (folder / "w0" / "tmp" / "blender_abc").mkdir(parents=True)
    return folder


def test_only_folders_whose_owner_ended_are_reaped(tmp_path: Path) -> None:
    dead = _owned_by(tmp_path / "colossus-pool-dead", *_dead_pid())
    me = psutil.Process()
    alive = _owned_by(tmp_path / "colossus-pool-alive", me.pid, me.create_time())
    recycled = _owned_by(tmp_path / "colossus-pool-recycled", me.pid, me.create_time() - 3600)  # same pid, other start
    unrecorded = tmp_path / "colossus-pool-unknown"
    unrecorded.mkdir()
    elsewhere = _owned_by(tmp_path / "colossus-pool-elsewhere", *_dead_pid())
    record = json.loads((elsewhere / OWNER_FILE).read_text())
    (elsewhere / OWNER_FILE).write_text(json.dumps({**record, "host": "another-machine"}))
    other = _owned_by(tmp_path / "someone-else", *_dead_pid())
    assert sorted(p.name for p in reap_orphans(tmp_path, "colossus-pool-*")) == ["colossus-pool-dead", "colossus-pool-recycled"]
    assert not dead.exists() and not recycled.exists()
    assert alive.exists() and unrecorded.exists() and other.exists() and elsewhere.exists()
    assert owner_alive(alive) is True and owner_alive(unrecorded) is None


def test_a_new_pool_reaps_the_temp_folders_of_dead_gateways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    left = _owned_by(tmp_path / "colossus-pool-killed", *_dead_pid())

    async def start_and_stop() -> Path:
        pool = Pool(PoolConfig(workers=0))
        pool.start()
        assert pool.workdir is not None
        workdir = pool.workdir
        assert owner_alive(workdir) is True, "the new folder names this process as its owner"
        await pool.stop()
        return workdir

    workdir = asyncio.run(start_and_stop())
    assert not left.exists()
    assert workdir.parent == tmp_path.resolve() and not workdir.exists()


def test_a_configured_workdir_of_a_dead_gateway_loses_its_workers_temp_folders(tmp_path: Path) -> None:
    workdir = _owned_by(tmp_path / "pool", *_dead_pid())
    (workdir / "baselines").mkdir()
    adopt(workdir, "*/tmp")
    assert not (workdir / "w0" / "tmp").exists() and (workdir / "baselines").exists()
    assert owner_alive(workdir) is True
    (workdir / "w0" / "tmp").mkdir()
    adopt(workdir, "*/tmp")  # owned by this live process now: nothing is removed
    assert (workdir / "w0" / "tmp").exists()


def test_claim_writes_the_record_atomically(tmp_path: Path) -> None:
    claim(tmp_path)
    assert json.loads((tmp_path / OWNER_FILE).read_text())["pid"] == psutil.Process().pid
    assert not list(tmp_path.glob("*.tmp"))

"""Losing a whole Ray node, and the gateway itself: scenes come back on a live node, no Blender is left behind."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import WorkerCrashed
from gateway.workers.pool import Pool
from gateway.workers.pool_scene import PoolScene
from tests.gateway.conftest import RAY_OBJECT_STORE, blender_processes, ray_pool_config
from tests.gateway.test_pool import ADD_CUBE, names

ray = pytest.importorskip("ray")

CHECKPOINTED = "restored to its state after the last successful execute_code"

GATEWAY = """
import asyncio, sys
from gateway.config import PoolConfig
from gateway.workers.pool import Pool

async def main():
    pool = Pool(PoolConfig(workers=2, backend="ray", ray_address=sys.argv[1], workdir=sys.argv[2], health_interval_s=3600))
    pool.start()
    ready = await pool.wait_ready(120, count=2)
    print("READY", pool._ray.session, ready, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


async def gone(marker: str, within_s: float, pid: int | None = None) -> list[Any]:
    """The Blender processes (all with `marker`, or just `pid`) still alive after waiting up to `within_s`."""
    deadline = time.monotonic() + within_s
    while (left := [p for p in blender_processes(marker) if pid in (None, p.pid)]) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return left


@pytest.fixture
async def pool(ray_cluster: Any, tmp_path: Path) -> AsyncIterator[Pool]:
    """Two Ray workers, one per node; afterwards the cluster gets back the node a test removed."""
    started = Pool(ray_pool_config(tmp_path / "pool", ray_cluster))
    started.start()
    session = marker(started)
    try:
        assert await started.wait_ready(120, count=2) == 2, started.status()
        yield started
    finally:
        await started.stop()
        remove_folders(session)
        while len(ray_cluster.worker_nodes) < 2:
            ray_cluster.add_node(num_cpus=1, resources={"blender": 1}, object_store_memory=RAY_OBJECT_STORE)


def remove_folders(marker: str) -> None:
    """The folders of actors that died with their node or gateway (a lost machine's disk goes with it)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{marker}*"):
        shutil.rmtree(folder, ignore_errors=True)


def marker(pool: Pool) -> str:
    assert pool._ray is not None
    return f"colossus-{pool._ray.session}-"


async def lose_node_of(scene: PoolScene, cluster: Any) -> str:
    """Remove the node the scene runs on (no graceful shutdown) and wait for its Blender to end; returns its id."""
    worker = scene.pool.get(scene.scene_id).worker
    lost, victim = worker.node, worker.pid
    cluster.remove_node(next(n for n in cluster.list_all_nodes() if n.node_id == lost), allow_graceful=False)
    # a machine that is lost takes its processes at once; here they take a moment to notice their raylet is gone
    assert not await gone(marker(scene.pool), 20, victim), "Blender outlived its node"
    assert lost is not None
    return lost


async def test_a_scene_whose_node_is_lost_comes_back_on_a_live_node_and_no_blender_outlives_it(
        pool: Pool, ray_cluster: Any) -> None:
    scene = PoolScene(pool, (await pool.lease()).scene_id)
    assert (await scene.execute(ADD_CUBE.format(name="kept"))).success
    assert (await scene.execute(ADD_CUBE.format(name="also_kept"))).success
    held = pool.get(scene.scene_id).worker
    assert held._info is not None
    lost_folder = Path(held._info.roots["work"]).parent
    started = time.monotonic()
    lost = await lose_node_of(scene, ray_cluster)
    print(f"Blender of the lost node ended after {time.monotonic() - started:.2f} s")
    started = time.monotonic()
    with pytest.raises(WorkerCrashed, match=rf"was lost during get_scene_info.*{CHECKPOINTED}"):
        await scene.info()
    print(f"node loss to scene restored: {time.monotonic() - started:.2f} s")
    assert await names(scene) == ["also_kept", "kept"]
    moved = pool.get(scene.scene_id).worker
    assert moved.node != lost and moved.node in {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    ray_cluster.add_node(num_cpus=1, resources={"blender": 1}, object_store_memory=RAY_OBJECT_STORE)
    assert await pool.wait_ready(120) == 1, "the lost worker's actor restarts on the new node"
    assert not lost_folder.exists(), "the restarted actor reaped its dead predecessor's folder on this machine"
    left = marker(pool)
    await pool.stop()
    assert not await gone(left, 15), "Blender outlived the gateway's stop()"


async def test_an_idle_scene_on_a_lost_node_is_moved_by_the_health_check(pool: Pool, ray_cluster: Any) -> None:
    scene = PoolScene(pool, (await pool.lease()).scene_id)
    assert (await scene.execute(ADD_CUBE.format(name="kept"))).success
    lost = await lose_node_of(scene, ray_cluster)
    await pool.check_health()  # what the pool's health loop runs every health_interval_s
    assert pool.get(scene.scene_id).worker.node != lost
    report = await scene.execute("pass")
    assert report.success and any(w.startswith("[WORKER_CRASHED]") and CHECKPOINTED in w for w in report.warnings), \
        report.warnings
    assert await names(scene) == ["kept"]


def test_no_blender_outlives_a_gateway_that_is_killed(ray_cluster: Any, tmp_path: Path) -> None:
    gateway = subprocess.Popen([sys.executable, "-c", GATEWAY, ray_cluster.address, str(tmp_path / "pool")],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert gateway.stdout is not None
        line = ""
        while not line.startswith("READY "):  # Ray prints a lost node's raylet log to a new driver's stdout
            line = gateway.stdout.readline()
            assert line, "the gateway exited before its workers were ready"
        _, session, ready = line.split()
        assert ready == "2"
        marker = f"colossus-{session}-"
        assert len(blender_processes(marker)) == 2
        gateway.send_signal(signal.SIGKILL)
        gateway.wait(10)
        assert not asyncio.run(gone(marker, 30)), "Blender outlived the gateway"
        remove_folders(marker)
    finally:
        gateway.kill()

"""Losing a whole Ray node, and the gateway itself: scenes come back on a live node, no Blender is left behind."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import WorkerCrashed
from gateway.pool import Pool
from gateway.scene import PoolScene
from tests.gateway.conftest import RAY_OBJECT_STORE, blender_processes, ray_pool_config

ray = pytest.importorskip("ray")

ADD_CUBE = "import bpy\nbpy.ops.mesh.primitive_cube_add()\nbpy.context.object.name = {name!r}"

GATEWAY = """
import asyncio, sys
from gateway.config import PoolConfig
from gateway.pool import Pool

async def main():
    pool = Pool(PoolConfig(workers=2, backend="ray", ray_address=sys.argv[1], workdir=sys.argv[2], health_interval_s=3600))
    pool.start()
    ready = await pool.wait_ready(120, count=2)
    print(pool._ray.session, ready, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


async def gone(marker: str, within_s: float, pid: int | None = None) -> list[Any]:
    """The Blender processes (all with `marker`, or just `pid`) still alive after waiting up to `within_s`."""
    deadline = time.monotonic() + within_s
    while (left := [p for p in blender_processes(marker) if pid in (None, p.pid)]) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return left


async def test_a_scene_whose_node_is_lost_comes_back_on_a_live_node_and_no_blender_outlives_it(
        ray_cluster: Any, tmp_path: Path) -> None:
    pool = Pool(ray_pool_config(tmp_path / "pool", ray_cluster))
    pool.start()
    try:
        assert await pool.wait_ready(120, count=2) == 2, pool.status()
        assert pool._ray is not None
        marker = f"colossus-{pool._ray.session}-"
        scene = PoolScene(pool, (await pool.lease()).scene_id)
        assert (await scene.execute(ADD_CUBE.format(name="kept"))).success
        assert (await scene.execute(ADD_CUBE.format(name="also_kept"))).success
        worker = pool.get(scene.scene_id).worker
        lost_node, victim = worker.node, worker.pid
        node = next(n for n in ray_cluster.list_all_nodes() if n.node_id == lost_node)

        ray_cluster.remove_node(node, allow_graceful=False)
        started = time.monotonic()
        # a machine that is lost takes its processes at once; here they take a moment to notice their raylet is gone
        assert not await gone(marker, 20, victim), "Blender outlived its node"
        print(f"Blender of the lost node ended after {time.monotonic() - started:.2f} s")
        started = time.monotonic()
        with pytest.raises(WorkerCrashed, match=r"was lost during get_scene_info.*restored to its state after "
                                                r"the last successful execute_code"):
            await scene.info()
        restore_s = time.monotonic() - started
        assert sorted(o.name for o in (await scene.info()).objects) == ["also_kept", "kept"]
        moved = pool.get(scene.scene_id).worker
        alive_nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
        assert moved.node != lost_node and moved.node in alive_nodes
        print(f"node loss to scene restored: {restore_s:.2f} s")
    finally:
        await pool.stop()
        ray_cluster.add_node(num_cpus=1, resources={"blender": 1}, object_store_memory=RAY_OBJECT_STORE)
    assert not await gone(marker, 15), "Blender outlived the gateway's stop()"


def test_no_blender_outlives_a_gateway_that_is_killed(ray_cluster: Any, tmp_path: Path) -> None:
    gateway = subprocess.Popen([sys.executable, "-c", GATEWAY, ray_cluster.address, str(tmp_path / "pool")],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert gateway.stdout is not None
        session, ready = gateway.stdout.readline().split()
        assert ready == "2"
        marker = f"colossus-{session}-"
        assert len(blender_processes(marker)) == 2
        gateway.send_signal(signal.SIGKILL)
        gateway.wait(10)
        assert not asyncio.run(gone(marker, 30)), "Blender outlived the gateway"
    finally:
        gateway.kill()


async def test_an_idle_scene_on_a_lost_node_is_moved_by_the_health_check(ray_cluster: Any, tmp_path: Path) -> None:
    pool = Pool(ray_pool_config(tmp_path / "pool", ray_cluster))
    pool.start()
    try:
        assert await pool.wait_ready(120, count=2) == 2, pool.status()
        assert pool._ray is not None
        scene = PoolScene(pool, (await pool.lease()).scene_id)
        assert (await scene.execute(ADD_CUBE.format(name="kept"))).success
        worker = pool.get(scene.scene_id).worker
        lost_node, victim = worker.node, worker.pid
        ray_cluster.remove_node(next(n for n in ray_cluster.list_all_nodes() if n.node_id == lost_node),
                                allow_graceful=False)
        assert not await gone(f"colossus-{pool._ray.session}-", 20, victim), "Blender outlived its node"

        await pool.check_health()  # what the pool's health loop runs every health_interval_s
        assert pool.get(scene.scene_id).worker.node != lost_node
        report = await scene.execute("pass")
        assert report.success and any("[WORKER_CRASHED]" in w and "restored to its state after the last successful "
                                      "execute_code" in w for w in report.warnings), report.warnings
        assert sorted(o.name for o in (await scene.info()).objects) == ["kept"]
    finally:
        await pool.stop()

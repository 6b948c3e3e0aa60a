"""The pool under failure: crashes, hangs, memory, exhaustion, expiry, isolation — real workers (a worker killed
mid-call: test_pool_portable.py, with the POSIX calls and with the portable fallbacks)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from pathlib import Path

import psutil
import pytest

from gateway.errors import PoolExhausted, UnknownScene, WorkerTimedOut
from gateway.workers.pool import Pool
from gateway.workers.pool_scene import PoolScene
from harness.launcher import WorkerLaunch
from harness.report import ErrorClass
from harness.scene_types import RenderSettings
from tests.gateway.conftest import pool_config

ADD_CUBE = "import bpy\nbpy.ops.mesh.primitive_cube_add()\nbpy.context.object.name = {name!r}"
# Disarms the worker's own snippet alarm first, so only the gateway's timeout can end it.
UNINTERRUPTIBLE_HANG = (
    "import signal\nsignal.setitimer(signal.ITIMER_REAL, 0)\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
    "while True:\n    pass"
)


async def names(scene: PoolScene) -> list[str]:
    return sorted(o.name for o in (await scene.info()).objects)


async def lease(pool: Pool) -> PoolScene:
    return PoolScene(pool, (await pool.lease()).scene_id)


async def release_all(pool: Pool) -> None:
    for leased in pool.scenes():
        await pool.release(leased.scene_id)
    await pool.wait_ready(60, count=pool.size)


async def test_two_scenes_in_parallel_are_isolated(pool: Pool) -> None:
    a, b = await lease(pool), await lease(pool)
    ra, rb = await asyncio.gather(a.execute(ADD_CUBE.format(name="only_a")), b.execute(ADD_CUBE.format(name="only_b")))
    assert ra.success and rb.success
    assert await names(a) == ["only_a"]
    assert await names(b) == ["only_b"]
    await release_all(pool)


async def test_released_worker_comes_back_empty_as_warm_spare(pool: Pool) -> None:
    a = await lease(pool)
    await a.execute(ADD_CUBE.format(name="left_behind"))
    await pool.release(a.scene_id)
    await pool.wait_ready(30, count=pool.size)
    assert {w.state for w in pool.status().workers} == {"warm"}
    b, c = await lease(pool), await lease(pool)
    assert await names(b) == [] and await names(c) == []
    await release_all(pool)


async def test_host_scenes_checkpoint_each_execute_and_replaying_leases_keep_their_baseline(pool: Pool) -> None:
    host = await lease(pool)
    replay = PoolScene(pool, (await pool.lease(checkpoint_executes=False)).scene_id)
    assert (await host.execute(ADD_CUBE.format(name="h"))).success
    assert (await replay.execute(ADD_CUBE.format(name="r"))).success
    assert pool.get(host.scene_id).restore_point == f"ckpt-{host.scene_id}"
    assert pool.get(replay.scene_id).restore_point == "empty"
    assert not (pool.baselines_dir / f"ckpt-{replay.scene_id}.blend").exists()
    await release_all(pool)


async def test_hung_worker_is_killed_at_its_timeout_while_another_scene_keeps_answering(pool: Pool) -> None:
    hung, other = await lease(pool), await lease(pool)
    await other.execute(ADD_CUBE.format(name="busy_bee"))
    hung_pid = pool.get(hung.scene_id).worker.pid
    started = time.monotonic()
    call = asyncio.create_task(hung.execute(UNINTERRUPTIBLE_HANG, timeout_s=2))
    answers = 0
    while not call.done():
        assert await names(other) == ["busy_bee"]
        answers += 1
        await asyncio.sleep(0.2)
    with pytest.raises(WorkerTimedOut, match=r"^\[WORKER_TIMEOUT\] .*within 4 s and was killed"):
        await call
    assert 3.5 < time.monotonic() - started < 30
    assert answers >= 5, "the other scene answered during the hang"
    assert pool.get(hung.scene_id).worker.pid != hung_pid, "the hung worker was replaced"
    assert await names(hung) == []
    assert hung_pid not in {p.pid for p in psutil.Process().children(recursive=True)}
    await release_all(pool)


async def test_while_true_snippet_fails_at_its_timeout_and_the_scene_stays_usable(pool: Pool) -> None:
    scene = await lease(pool)
    started = time.monotonic()
    report = await scene.execute("while True:\n    pass", timeout_s=1)
    assert not report.success and report.error_class == ErrorClass.TIMEOUT
    assert time.monotonic() - started < 6
    assert (await scene.execute(ADD_CUBE.format(name="after"))).success
    await release_all(pool)


async def test_worker_above_its_memory_limit_is_replaced_and_the_scene_restored(pool: Pool) -> None:
    scene = await lease(pool)
    assert (await scene.execute(ADD_CUBE.format(name="before_hog"))).success
    worker = pool.get(scene.scene_id).worker
    old_pid, rss = worker.pid, worker.rss_mb()
    assert rss is not None
    hog = "import builtins\nbuiltins._colossus_hog = bytearray(400 * 2**20)\nbuiltins._colossus_hog[::4096] = b'x' * len(range(0, 400 * 2**20, 4096))"
    assert (await scene.execute(hog, timeout_s=20)).success
    limit = pool.config.memory_limit_mb
    pool.config.memory_limit_mb = int(rss + 200)
    try:
        await pool.check_health()
    finally:
        pool.config.memory_limit_mb = limit
    leased = pool.get(scene.scene_id)
    assert leased.worker.pid != old_pid
    assert any(i.startswith("[WORKER_MEMORY]") for i in leased.incidents), leased.incidents
    assert await names(scene) == ["before_hog"]
    report = await scene.execute("pass")
    assert report.success and report.warnings[0].startswith("[WORKER_MEMORY]"), "the next caller is told once"
    assert not any("WORKER_MEMORY" in w for w in (await scene.execute("pass")).warnings)
    await release_all(pool)


async def test_lease_fails_with_pool_exhausted_when_every_worker_stays_busy(pool: Pool) -> None:
    held = [await lease(pool) for _ in range(pool.size)]
    wait = pool.config.queue_wait_s
    pool.config.queue_wait_s = 0.5
    try:
        with pytest.raises(PoolExhausted, match=r"^\[POOL_EXHAUSTED\] no worker became free within 0.5 s"):
            await pool.lease()
        limit = pool.config.queue_limit
        pool.config.queue_limit = 0
        try:
            with pytest.raises(PoolExhausted, match="already wait"):
                await pool.lease()
        finally:
            pool.config.queue_limit = limit
    finally:
        pool.config.queue_wait_s = wait
    waiter = asyncio.create_task(pool.lease())
    await asyncio.sleep(0.2)
    await pool.release(held[0].scene_id)
    assert (await asyncio.wait_for(waiter, 10)).scene_id
    await release_all(pool)


async def test_idle_lease_expires_and_its_scene_id_is_then_unknown(pool: Pool) -> None:
    scene = await lease(pool)
    expiry = pool.config.idle_expiry_s
    pool.config.idle_expiry_s = 0.1
    try:
        await asyncio.sleep(0.3)
        await pool.check_health()
    finally:
        pool.config.idle_expiry_s = expiry
    with pytest.raises(UnknownScene, match=r"^\[UNKNOWN_SCENE\] no scene"):
        await scene.info()
    await release_all(pool)


async def test_health_check_keeps_healthy_workers_and_replaces_a_dead_spare(pool: Pool) -> None:
    await pool.wait_ready(60, count=pool.size)
    before = {w.label: w.pid for w in pool.workers}
    await pool.check_health()
    assert {w.label: w.pid for w in pool.workers} == before, "healthy workers are left alone"
    victim = pool.workers[0]
    os.kill(before[victim.label], signal.SIGKILL)
    await asyncio.sleep(0.3)
    await pool.check_health()
    assert await pool.wait_ready(60, count=pool.size) == pool.size
    assert victim.pid not in (None, before[victim.label])
    assert pool.workers[1].pid == before[pool.workers[1].label]


async def test_local_http_workers_take_ports_from_the_base_port_skipping_busy_ones(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        first = busy.getsockname()[1]
    with socket.socket() as busy:  # hold `first` so the pool must skip it
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", first))
        busy.listen()
        http_pool = Pool(pool_config(tmp_path, workers=1, transport="http", base_port=first))
        http_pool.start()
        try:
            assert await http_pool.wait_ready(90) == 1, http_pool.status()
            worker = http_pool.workers[0]
            assert worker.spec.port is not None and worker.spec.port > first
            scene = await lease(http_pool)
            assert (await scene.execute(ADD_CUBE.format(name="over_http"))).success
            assert await names(scene) == ["over_http"]
        finally:
            await http_pool.stop()
    assert not worker.alive()


async def test_a_remote_worker_given_by_url_joins_the_pool(tmp_path: Path) -> None:
    launch = WorkerLaunch(workdir=tmp_path / "remote", transport="http")
    process, url = await asyncio.to_thread(launch.spawn_http, 90.0)
    remote_pool = Pool(pool_config(tmp_path / "pool", workers=0, remote=[url]))
    remote_pool.start()
    try:
        assert await remote_pool.wait_ready(60) == 1, remote_pool.status()
        assert remote_pool.workers[0].spec.url == url
        scene = await lease(remote_pool)
        assert (await scene.execute(ADD_CUBE.format(name="far_away"))).success
        assert await names(scene) == ["far_away"]
        # its renders arrive as image bytes (its paths are on another machine) and are written here
        done = await scene.execute_and_render(ADD_CUBE.format(name="second"), RenderSettings(views=["iso"], resolution=32),
                                              tmp_path / "renders")
        rendered = Path(done.render.views["iso"].path)
        assert rendered == tmp_path / "renders" / "iso.png" and rendered.stat().st_nlink == 1
        worker_png = next((tmp_path / "remote").rglob("iso.png"))
        assert rendered.read_bytes() == worker_png.read_bytes()
    finally:
        await remote_pool.stop()
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

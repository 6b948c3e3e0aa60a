"""The pool on Ray: Blender workers in actors on a real two-node cluster, state back by value, faults recovered."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import WorkerCrashed, WorkerTimedOut
from gateway.workers.pool import Pool
from gateway.workers.pool_scene import PoolScene
from harness.scene_types import RenderSettings
from tests.gateway.conftest import ray_pool_config
from tests.gateway.test_pool import ADD_CUBE, UNINTERRUPTIBLE_HANG, names

ray = pytest.importorskip("ray")

COUNT_AND_SLEEP = "open({marker!r}, 'a').write('ran\\n')\nimport time\ntime.sleep(20)"
CHECKPOINTED = "restored to its state after the last successful execute_code"


@pytest.fixture(scope="module")
async def pool(ray_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pool]:
    started = Pool(ray_pool_config(tmp_path_factory.mktemp("ray-pool"), ray_cluster))
    started.start()
    assert await started.wait_ready(120, count=2) == 2, started.status()
    yield started
    await started.stop()


async def release_all(pool: Pool) -> None:
    for leased in pool.scenes():
        await pool.release(leased.scene_id)
    assert await pool.wait_ready(120, count=pool.size) == pool.size, pool.status()


async def test_two_leases_land_on_different_nodes(pool: Pool) -> None:
    a, b = await pool.lease(), await pool.lease()
    assert a.worker.node and b.worker.node and a.worker.node != b.worker.node
    assert {w.node for w in pool.status().workers} == {a.worker.node, b.worker.node}
    await release_all(pool)


async def test_renders_and_blend_files_come_back_as_bytes_into_the_gateways_folder(pool: Pool, tmp_path: Path) -> None:
    scene = PoolScene(pool, (await pool.lease()).scene_id)
    assert (await scene.execute(ADD_CUBE.format(name="shipped"))).success
    pack, content = await scene.render(RenderSettings(views=["front", "side", "top", "iso"], resolution=256))
    assert pool.workdir is not None
    for view in pack.views.values():
        path = Path(view.path)
        assert path.is_relative_to(pool.workdir), path  # the gateway's copy, not the actor's folder on its node
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [b.type for b in content].count("image") == 4
    saved = await scene.save_blend(tmp_path / "final_scene.blend")
    assert saved.read_bytes()[:4] in (b"BLEN", b"\x28\xb5\x2f\xfd")  # plain or zstd-compressed .blend
    checkpoint = pool.baselines_dir / f"ckpt-{scene.scene_id}.blend"
    assert checkpoint.stat().st_size > 0, "the restore point is kept by the gateway"
    assert pool._ray is not None
    on_node = f"colossus-{pool._ray.session}-*/baselines/{checkpoint.name}"  # the actor's folder on its node
    assert list(Path(tempfile.gettempdir()).glob(on_node))
    await release_all(pool)
    assert not checkpoint.exists() and not list(Path(tempfile.gettempdir()).glob(on_node)), \
        "a released scene's restore point stayed behind"


async def test_a_blender_crash_inside_an_actor_restores_the_scene_from_its_restore_point(pool: Pool) -> None:
    scene = PoolScene(pool, (await pool.lease()).scene_id)
    assert (await scene.execute(ADD_CUBE.format(name="kept"))).success
    worker = pool.get(scene.scene_id).worker
    victim = worker.pid
    assert victim is not None
    call = asyncio.create_task(scene.execute("import time\ntime.sleep(20)", timeout_s=25))
    await asyncio.sleep(1.5)
    os.kill(victim, signal.SIGKILL)  # every node of this cluster is this machine
    with pytest.raises(WorkerCrashed, match=rf"^\[WORKER_CRASHED\] .*died.*{CHECKPOINTED}"):
        await call
    assert await names(scene) == ["kept"]
    await release_all(pool)


async def test_an_actor_death_fails_the_call_once_and_never_replays_it(pool: Pool, tmp_path: Path) -> None:
    scene = PoolScene(pool, (await pool.lease()).scene_id)
    assert (await scene.execute(ADD_CUBE.format(name="kept"))).success
    marker = tmp_path / "runs.txt"
    call = asyncio.create_task(scene.execute(COUNT_AND_SLEEP.format(marker=str(marker)), timeout_s=25))
    await asyncio.sleep(1.5)
    worker: Any = pool.get(scene.scene_id).worker
    ray.kill(worker._actor, no_restart=False)  # a crash of the actor's process: Ray restarts it
    with pytest.raises(WorkerCrashed, match=rf"Ray actor .* was lost during execute_code.*{CHECKPOINTED}"):
        await call
    assert await names(scene) == ["kept"]
    await asyncio.sleep(2)
    assert marker.read_text() == "ran\n", "the non-idempotent call ran again after the restart"
    await release_all(pool)


async def test_a_call_meant_for_an_actor_that_ray_restarted_is_refused_not_run(pool: Pool, tmp_path: Path) -> None:
    scene = PoolScene(pool, (await pool.lease()).scene_id)
    assert (await scene.execute(ADD_CUBE.format(name="kept"))).success
    worker: Any = pool.get(scene.scene_id).worker
    ray.kill(worker._actor, no_restart=False)  # between calls: Ray brings up a new, empty incarnation
    await asyncio.sleep(3)
    marker = tmp_path / "ran.txt"
    with pytest.raises(WorkerCrashed, match=rf"Ray actor.*{CHECKPOINTED}"):
        await scene.execute(f"open({str(marker)!r}, 'w').write('ran')")
    assert not marker.exists(), "the call ran on the restarted actor's empty scene"
    assert await names(scene) == ["kept"]
    await release_all(pool)


async def test_a_hung_blender_is_killed_at_its_timeout_and_the_scene_restored(pool: Pool) -> None:
    scene = PoolScene(pool, (await pool.lease()).scene_id)
    assert (await scene.execute(ADD_CUBE.format(name="kept"))).success
    with pytest.raises(WorkerTimedOut, match=rf"did not answer execute_code within .* s and was killed.*{CHECKPOINTED}"):
        await scene.execute(UNINTERRUPTIBLE_HANG, timeout_s=2)
    assert await names(scene) == ["kept"]
    await release_all(pool)


async def test_a_health_probe_answers_while_a_long_call_runs(pool: Pool) -> None:
    scene = PoolScene(pool, (await pool.lease()).scene_id)
    worker = pool.get(scene.scene_id).worker
    call = asyncio.create_task(scene.execute("import time\ntime.sleep(4)", timeout_s=10))
    await asyncio.sleep(1.0)
    started = time.monotonic()
    await worker.refresh()
    assert time.monotonic() - started < 1.0 and not call.done()
    assert worker.alive() and (worker.rss_mb() or 0) > 50
    assert (await call).success
    await release_all(pool)

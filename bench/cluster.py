"""The pool on Ray against the local pool, side by side in one run (needs the `ray` extra).

    python bench/cluster.py [--json] [--rounds N] [--calls N]

A real cluster on this machine (ray.cluster_utils: a 0-CPU head and two nodes offering `blender: 1`)
and a local pool of two stdio workers run the same work, rounds interleaved:

work_ratio            execute_code + render_pack of 4 preview views at 256² on a host scene (restore
                      point saved after the execute) through Ray actors ÷ the same on local stdio
                      workers, medians (target ≤ 1.15)
cheap_overhead_p50_ms `ping` through a Ray actor minus `ping` on a local worker, medians
node_loss_restore_s   from the removal of the node holding a scene (allow_graceful=False) to the
                      scene answering on a live node, restored from its last restore point
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ray.cluster_utils import Cluster  # noqa: E402

from gateway.config import PoolConfig  # noqa: E402
from gateway.errors import WorkerError  # noqa: E402
from gateway.workers.pool import Pool  # noqa: E402
from gateway.workers.pool_scene import PoolScene  # noqa: E402
from harness.scene_types import RenderSettings  # noqa: E402

HELLO = (Path(__file__).resolve().parents[1] / "examples" / "hello.py").read_text()
SETTINGS = RenderSettings(views=["front", "side", "top", "iso"], preset="preview", resolution=256)
OBJECT_STORE = 200 * 2**20
TARGETS = {"work_ratio": 1.15}


async def timed(call) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def work(scene: PoolScene) -> None:
    assert (await scene.execute(HELLO)).success
    await scene.render(SETTINGS)


async def started_pool(config: PoolConfig) -> Pool:
    pool = Pool(config)
    pool.start()
    ready = await pool.wait_ready(180, count=config.workers)
    assert ready == config.workers, pool.status()
    return pool


async def node_loss_restore_s(cluster: Cluster, pool: Pool) -> float:
    scene = PoolScene(pool, (await pool.lease()).scene_id)
    assert (await scene.execute(HELLO)).success
    lost = pool.get(scene.scene_id).worker.node
    node = next(n for n in cluster.list_all_nodes() if n.node_id == lost)
    cluster.remove_node(node, allow_graceful=False)
    started = time.perf_counter()
    while True:
        try:
            info = await scene.info()
            if pool.get(scene.scene_id).worker.node != lost:
                break
        except WorkerError:
            continue  # the one clear error naming the loss; the scene is restored before it is raised
        await asyncio.sleep(0.05)  # the lost node's processes may answer for a moment
    assert info.objects, "the scene came back empty"
    return time.perf_counter() - started


async def measure(rounds: int, calls: int, workdir: Path) -> dict[str, float | int]:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": OBJECT_STORE})
    for _ in range(2):
        cluster.add_node(num_cpus=1, resources={"blender": 1}, object_store_memory=OBJECT_STORE)
    cluster.wait_for_nodes()
    common = dict(workers=2, health_interval_s=3600, warm_spare=True)
    local = ray_pool = None
    try:
        local = await started_pool(PoolConfig(workdir=workdir / "local", **common))
        ray_pool = await started_pool(PoolConfig(workdir=workdir / "ray", backend="ray", ray_address=cluster.address,
                                                 **common))
        scenes = {name: PoolScene(p, (await p.lease()).scene_id) for name, p in (("local", local), ("ray", ray_pool))}
        samples: dict[str, list[float]] = {"local": [], "ray": []}
        pings: dict[str, list[float]] = {"local": [], "ray": []}
        for name, scene in scenes.items():  # warm both paths
            await work(scene)
        for _ in range(rounds):
            for name, scene in scenes.items():
                samples[name].append(await timed(lambda s=scene: work(s)))
        for _ in range(calls):
            for name, scene in scenes.items():
                pings[name].append(await timed(lambda s=scene: s.call("ping", {})))
        for pool in (local, ray_pool):
            for leased in pool.scenes():
                await pool.release(leased.scene_id)
        await ray_pool.wait_ready(60, count=2)
        restore_s = await node_loss_restore_s(cluster, ray_pool)
        med = {name: statistics.median(v) for name, v in samples.items()}
        return {
            "work_ratio": round(med["ray"] / med["local"], 3),
            "work_local_p50_ms": round(med["local"] * 1000, 1),
            "work_ray_p50_ms": round(med["ray"] * 1000, 1),
            "cheap_overhead_p50_ms": round((statistics.median(pings["ray"]) - statistics.median(pings["local"])) * 1000, 2),
            "cheap_local_p50_ms": round(statistics.median(pings["local"]) * 1000, 2),
            "node_loss_restore_s": round(restore_s, 2),
            "rounds": rounds,
            "calls": calls,
        }
    finally:
        for pool in (ray_pool, local):
            if pool is not None:
                await pool.stop()
        cluster.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rounds", type=int, default=20, help="execute + render_pack rounds per backend")
    parser.add_argument("--calls", type=int, default=200, help="ping calls per backend")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="colossus-bench-cluster-") as tmp:
        result = asyncio.run(measure(args.rounds, args.calls, Path(tmp)))
    lines = [f"{k:24} {v}" + (f"  (target ≤ {TARGETS[k]})" if k in TARGETS else "") for k, v in result.items()]
    print(json.dumps(result) if args.json else "\n".join(lines))  # last: Ray prints a lost node's raylet log to stdout
    return 0 if result["work_ratio"] <= TARGETS["work_ratio"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Gateway overhead, measured side by side in one run.

    python bench/gateway.py [--json] [--calls N] [--leases N]

added_p50_ms / added_p95_ms: a cheap worker tool (`ping`) called through the gateway over stdio
(`blender_ping`) minus the same call on a worker's own stdio client, calls interleaved.
lease_p50_ms: reset_to_baseline → scene_id when a warm spare is ready. workers_rss_mb: resident
memory per idle worker, as the gateway's pool reports it.
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

from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from harness.launcher import WorkerLaunch

PROJECT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def wait_free(gateway: Client, count: int, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        pool = (await gateway.call_tool("mesh_status", {})).structured_content["pool"]
        if pool["free"] >= count or time.monotonic() > deadline:
            return pool
        await asyncio.sleep(0.05)


async def measure(calls: int, leases: int, workdir: Path) -> dict[str, float | int]:
    config = workdir / "colossus.toml"
    config.write_text(f'[pool]\nworkers = 2\nworkdir = "{workdir / "pool"}"\nhealth_interval_s = 3600\n'
                      '[vision]\nenabled = false\n[gateway]\ntoolsets = ["core", "blender"]\n')  # blender_ping
    gateway_transport = StdioTransport(sys.executable, ["-m", "gateway.cli", "serve", "--config", str(config)],
                                       env=WorkerLaunch(workdir=workdir).env(), cwd=str(PROJECT), keep_alive=False)
    direct_transport = WorkerLaunch(workdir=workdir / "direct").stdio_transport(log_file=workdir / "direct.log")
    async with Client(gateway_transport, init_timeout=120) as gateway, Client(direct_transport, init_timeout=120) as direct:
        pool = await wait_free(gateway, 2)
        idle_rss = [w["rss_mb"] for w in pool["workers"] if w["rss_mb"]]

        scene_id = (await gateway.call_tool("reset_to_baseline", {})).structured_content["scene_id"]
        for _ in range(20):  # warm both paths
            await gateway.call_tool("blender_ping", {"scene_id": scene_id})
            await direct.call_tool("ping", {})
        through, straight = [], []
        for _ in range(calls):
            t0 = time.perf_counter()
            await direct.call_tool("ping", {})
            t1 = time.perf_counter()
            await gateway.call_tool("blender_ping", {"scene_id": scene_id})
            t2 = time.perf_counter()
            straight.append((t1 - t0) * 1000)
            through.append((t2 - t1) * 1000)
        await gateway.call_tool("release_scene", {"scene_id": scene_id})

        lease_ms = []
        for _ in range(leases):
            await wait_free(gateway, 2)
            t0 = time.perf_counter()
            scene_id = (await gateway.call_tool("reset_to_baseline", {})).structured_content["scene_id"]
            lease_ms.append((time.perf_counter() - t0) * 1000)
            await gateway.call_tool("release_scene", {"scene_id": scene_id})

    return {
        "calls": calls,
        "direct_p50_ms": round(statistics.median(straight), 3),
        "gateway_p50_ms": round(statistics.median(through), 3),
        "added_p50_ms": round(statistics.median(through) - statistics.median(straight), 3),
        "added_p95_ms": round(percentile(through, 0.95) - percentile(straight, 0.95), 3),
        "leases": leases,
        "lease_p50_ms": round(statistics.median(lease_ms), 3),
        "lease_p95_ms": round(percentile(lease_ms, 0.95), 3),
        "workers_rss_mb": round(statistics.mean(idle_rss), 1) if idle_rss else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--leases", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="colossus-bench-") as tmp:
        result = asyncio.run(measure(args.calls, args.leases, Path(tmp)))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:16s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of asset finalization: the pipeline through MCP workers against the same bpy calls in one script.

    python bench/asset.py --json [--triangles 200000] [--profile unity] [--rounds 4]

Pipeline and direct runs alternate, `--rounds` times, first one then the other going first, and
medians are compared, so load from other processes on the machine hits both sides alike.

ratio                 finalize() on two stdio workers (stages + round-trip checker) ÷ the same stage
                      functions called directly in one bpy process, same source, same profile (target ≤ 1.2)
ratio_best_of         fastest pipeline run ÷ fastest direct run (steadier than the median on a busy machine)
pipeline_stage_s      seconds per stage through the pipeline (median run)
direct_stage_s        seconds per stage called directly
bake_1024_map_s       Cycles bake of one map at the profile's size (normal, high → LOD0), direct
cpu_ratio             CPU seconds of the same comparison (both workers plus this client ÷ the direct
                      process): wall time swings with other load on the machine, CPU time much less
peak_worker_rss_mb    largest resident memory of a worker process during the pipeline (sampled every 0.2 s)

The source is a closed, bumpy sphere written as binary STL by numpy (no Blender involved).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1.2


def bumpy_sphere_stl(path: Path, triangles: int) -> int:
    """A closed UV sphere with sine bumps, about `triangles` triangles, as binary STL; returns the count."""
    rings = int(np.sqrt(triangles / 4))
    segments = 2 * rings
    theta, phi = np.meshgrid(np.linspace(0, np.pi, rings + 1), np.linspace(0, 2 * np.pi, segments + 1), indexing="ij")
    radius = 1 + 0.03 * np.sin(14 * theta) * np.cos(11 * phi)
    grid = np.stack([radius * np.sin(theta) * np.cos(phi), radius * np.sin(theta) * np.sin(phi),
                     radius * np.cos(theta) + 1.0], axis=-1).astype(np.float32)
    a, b, c, d = grid[:-1, :-1], grid[:-1, 1:], grid[1:, 1:], grid[1:, :-1]
    quads = np.concatenate([np.stack([a, c, b], axis=2), np.stack([a, d, c], axis=2)]).reshape(-1, 3, 3)
    area = np.linalg.norm(np.cross(quads[:, 1] - quads[:, 0], quads[:, 2] - quads[:, 0]), axis=1)
    quads = quads[area > 1e-12]  # the poles' degenerate triangles
    records = np.zeros(len(quads), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    records["v"] = quads
    with path.open("wb") as f:
        f.write(b"colossus bench sphere".ljust(80, b" ") + struct.pack("<I", len(quads)) + records.tobytes())
    return len(quads)


async def pipeline(source: Path, profile_name: str, work: Path) -> dict:
    from fastmcp import Client  # noqa: PLC0415

    from gateway.workers.asset_adapters import ClientWorker  # noqa: PLC0415
    from harness.launcher import WorkerLaunch  # noqa: PLC0415
    from orchestrator.assets.pipeline import finalize  # noqa: PLC0415
    from orchestrator.assets.profiles import load_profile  # noqa: PLC0415

    peak: dict[int, float] = {}

    async def sample() -> None:
        while True:
            for proc in psutil.Process().children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    peak[proc.pid] = max(peak.get(proc.pid, 0.0), proc.memory_info().rss / 2**20)
            await asyncio.sleep(0.2)

    clients = [Client(WorkerLaunch(workdir=work / role).stdio_transport(log_file=work / f"{role}.log"),
                      init_timeout=120, timeout=None) for role in ("stages", "check")]
    def cpu_s() -> float:
        """CPU seconds so far of this process and its worker processes."""
        total = 0.0
        for proc in [psutil.Process(), *psutil.Process().children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    async with clients[0], clients[1]:
        sampler = asyncio.create_task(sample())
        started, cpu_before = time.perf_counter(), cpu_s()
        result = await finalize(source, load_profile(profile_name), work / "out", ClientWorker(clients[0]),
                                ClientWorker(clients[1]))
        total, cpu = time.perf_counter() - started, cpu_s() - cpu_before
        sampler.cancel()
    return {"total_s": round(total, 3), "cpu_s": round(cpu, 3), "stage_s": result.stage_s, "valid": result.valid,
            "lods": [lod.triangles for lod in result.lods], "peak_worker_rss_mb": round(max(peak.values()), 1)}


DIRECT = r'''
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from servers.blender_primary.stdio_guard import divert_stdout
OUT_FD = divert_stdout()
import bpy
from orchestrator.assets.pipeline import lod_budget
from orchestrator.assets.profiles import load_profile
from servers.blender_primary import baselines
from servers.blender_primary.asset_bake import bake
from servers.blender_primary.asset_cleanup import cleanup
from servers.blender_primary.asset_export import export_lods
from servers.blender_primary.asset_import import import_source
from servers.blender_primary.asset_inspect import inspect
from servers.blender_primary.asset_lods import decimate, render_each
from servers.blender_primary.asset_uv import unwrap
from servers.blender_primary.state import WorkerState

source, profile, work = Path(sys.argv[2]), load_profile(sys.argv[3]), Path(sys.argv[4])
state = WorkerState.prepare(work)
empty = baselines.ensure_empty(state)
t, size, e = profile.textures, profile.textures.size, profile.export
stage_s, bake_s = {}, {}
def timed(stage, fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    stage_s[stage] = round(time.perf_counter() - started, 3)
    return out
(work / "textures").mkdir(parents=True, exist_ok=True)
cpu_before = time.process_time()
lod = lambda i: profile.lod_name("bench", i)
imported = timed("import", import_source, empty, str(source), "high")
cleaned = timed("cleanup", cleanup, "high", profile.cleanup.merge_distance, profile.cleanup.fill_holes_sides,
                profile.cleanup.triangulate, profile.cleanup.origin)
low = timed("reduce", decimate, "high", lod(0), profile.lods.triangles[0])
timed("uv", unwrap, lod(0), profile.uv.method, profile.uv.angle_limit_deg, profile.uv.margin_px / size)
extrusion = t.cage_extrusion * max(cleaned.dimensions)
pbr = [m for m in t.maps if m != "normal"]
baked = timed("bake_materials", bake, "high", lod(0), pbr, size, extrusion, profile.uv.margin_px, t.samples, "bench_MAT", work / "textures")
normal = timed("bake_normals", bake, "high", lod(0), ["normal"], size, extrusion, profile.uv.margin_px, t.samples, "bench_MAT", work / "textures")
def lods():
    for i in range(1, len(profile.lods.triangles)):
        decimate(lod(0), lod(i), lod_budget(profile, i, low.triangles))
timed("lods", lods)
names = [lod(i) for i in range(len(profile.lods.triangles))]
files = timed("export", export_lods, work, f"{e.prefix}bench", names, e.format, f"{e.prefix}bench" if e.lod_group else None,
              e.split_lods, e.fbx, e.gltf)
timed("renders", render_each, names, work / "renders", 256)
timed("inspect", inspect, names)
def round_trip():
    for path in files.files:
        import_source(empty, path, None)
        inspect(None)
timed("round_trip", round_trip)
import os
os.write(OUT_FD, json.dumps({"stage_s": stage_s, "total_s": round(sum(stage_s.values()), 3),
                             "cpu_s": round(time.process_time() - cpu_before, 3),
                             "bake_s": {**baked.elapsed_s, **normal.elapsed_s}}).encode())
'''


def direct(source: Path, profile: str, work: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", DIRECT, str(ROOT), str(source), profile, str(work)],
                          capture_output=True, text=True, timeout=1800, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--triangles", type=int, default=200_000)
    parser.add_argument("--profile", default="unity")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    pipes, raws = [], []
    with tempfile.TemporaryDirectory(prefix="colossus-bench-asset-") as tmp:
        work = Path(tmp)
        source = work / "sphere.stl"
        triangles = bumpy_sphere_stl(source, args.triangles)
        for r in range(args.rounds):  # the order alternates, so a machine getting busier or quieter favours neither
            if r % 2:
                raws.append(direct(source, args.profile, work / f"direct{r}"))
            pipes.append(asyncio.run(pipeline(source, args.profile, work / f"pipeline{r}")))
            if not r % 2:
                raws.append(direct(source, args.profile, work / f"direct{r}"))
    piped = sorted(pipes, key=lambda x: x["total_s"])[(len(pipes) - 1) // 2]  # the median run (the lower of two)
    raw = sorted(raws, key=lambda x: x["total_s"])[(len(raws) - 1) // 2]
    ratio = round(piped["total_s"] / raw["total_s"], 3)
    result = {
        "source_triangles": triangles, "profile": args.profile, "rounds": args.rounds,
        "pipeline_total_s": piped["total_s"], "direct_total_s": raw["total_s"], "ratio": ratio,
        "ratio_best_of": round(min(p["total_s"] for p in pipes) / min(r["total_s"] for r in raws), 3),
        "cpu_ratio": round(statistics.median(p["cpu_s"] for p in pipes) / statistics.median(r["cpu_s"] for r in raws), 3),
        "pipeline_cpu_s": [p["cpu_s"] for p in pipes], "direct_cpu_s": [r["cpu_s"] for r in raws],
        "pipeline_runs_s": [p["total_s"] for p in pipes], "direct_runs_s": [r["total_s"] for r in raws],
        "pipeline_stage_s": piped["stage_s"], "direct_stage_s": raw["stage_s"],
        "bake_1024_map_s": raw["bake_s"].get("normal"), "bake_map_s": raw["bake_s"],
        "peak_worker_rss_mb": max(p["peak_worker_rss_mb"] for p in pipes), "lods": piped["lods"], "valid": piped["valid"],
        "targets_met": ratio <= TARGET_RATIO,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:20} {value}" + (f"   (target ≤ {TARGET_RATIO})" if key == "ratio" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of one Blender worker, client-side and raw side by side in one process and one run.

    python bench/worker.py --json

reset_p50_ms          reset_to_baseline through the in-memory MCP client (target ≤ 30)
render_ratio          render_pack of 4 preview views at 256² through the client ÷ four raw
                      bpy.ops.render.render calls of the same views, same settings (target ≤ 1.15)
exec_overhead_p50_ms  execute_code of a trivial snippet through the client minus a bare exec (target ≤ 5)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from servers.blender_primary.stdio_guard import divert_stdout  # noqa: E402

OUT_FD = divert_stdout()  # Blender prints from C on fd 1; only our result goes to the real stdout

import bpy  # noqa: E402
from fastmcp import Client  # noqa: E402
from mathutils import Vector  # noqa: E402

from harness.scene_types import RenderSettings  # noqa: E402
from servers.blender_primary.camera_pack import camera_matrix  # noqa: E402
from servers.blender_primary.render_state import RenderSession  # noqa: E402
from servers.blender_primary.server import create_server  # noqa: E402

HELLO = Path(__file__).resolve().parents[1] / "examples" / "hello.py"
VIEWS = ["front", "side", "top", "iso"]
TARGETS = {"reset_p50_ms": 30.0, "render_ratio": 1.15, "exec_overhead_p50_ms": 5.0}


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


async def timed(call, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - t)
    return samples


def raw_renders(settings: RenderSettings) -> float:
    """Four plain renders of the pack's views: same preset and camera placement, no MCP, no files."""
    scene = bpy.context.scene
    with RenderSession(scene, settings) as session:
        started = time.perf_counter()
        for view in settings.views:
            location, rotation, _ = camera_matrix(view, Vector(settings.target), settings.distance).decompose()
            session.camera.location, session.camera.rotation_euler = location, rotation.to_euler()
            bpy.ops.render.render()
        return time.perf_counter() - started


async def measure(rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="colossus-bench-") as tmp:
        async with Client(create_server(Path(tmp))) as client:
            report = (await client.call_tool("execute_code", {"code": HELLO.read_text()})).structured_content
            assert report["success"], report
            await client.call_tool("save_baseline", {"name": "hello"})

            reset = await timed(lambda: client.call_tool("reset_to_baseline", {"baseline_id": "hello"}), rounds * 3)

            settings = RenderSettings(views=VIEWS, preset="preview", resolution=256)
            args = settings.model_dump(mode="json")
            await client.call_tool("render_pack", args)  # warm both paths (GPU context, shaders)
            raw_renders(settings)
            packs, raws = [], []
            for _ in range(rounds):  # interleaved, so drift hits both sides alike
                packs += await timed(lambda: client.call_tool("render_pack", args), 1)
                raws.append(raw_renders(settings))

            code = "x = 1"
            client_exec = await timed(lambda: client.call_tool("execute_code", {"code": code}), rounds * 5)
            compiled = compile(code, "<bench>", "exec")
            bare = []
            for _ in range(rounds * 5):
                t = time.perf_counter()
                exec(compiled, {})
                bare.append(time.perf_counter() - t)

    pack_ms, raw_ms = ms(statistics.median(packs)), ms(statistics.median(raws))
    exec_client, exec_bare = ms(statistics.median(client_exec)), ms(statistics.median(bare))
    result = {
        "reset_p50_ms": ms(statistics.median(reset)),
        "reset_max_ms": ms(max(reset)),
        "render_pack_p50_ms": pack_ms,
        "render_raw_p50_ms": raw_ms,
        "render_ratio": round(pack_ms / raw_ms, 3),
        "exec_client_p50_ms": exec_client,
        "exec_bare_p50_ms": exec_bare,
        "exec_overhead_p50_ms": round(exec_client - exec_bare, 3),
        "rounds": rounds,
        "blender_version": bpy.app.version_string,
    }
    result["targets_met"] = all(result[key] <= limit for key, limit in TARGETS.items())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    result = asyncio.run(measure(args.rounds))
    if args.json:
        text = json.dumps(result)
    else:
        text = "\n".join(f"{k:24} {v}" + (f"   (target ≤ {TARGETS[k]})" if k in TARGETS else "") for k, v in result.items())
    os.write(OUT_FD, (text + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())

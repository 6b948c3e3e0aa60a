"""Benchmark of the vision core on a real camera pack.

    python bench/vision.py [--json] [--runs N]

The pack: the red_block example task rendered by a real Blender worker (servers.blender_primary,
in-process, in-memory MCP client), 4 preview views (Workbench) at 256²: the start program is the
render, the truth program the reference. Without bpy the bench draws render-like frames instead
and says so in `source`.

pack_ms         check (sentinel with scene facts + compare) of the 4-view pack against the reference
                pack, through VisionCore from the PNG paths, cold: a fresh loader each run, so decoding and
                every analysis (silhouettes, edges, hashes) is included; median of --runs (target ≤ 40).
                The renders carry the worker's measurement (mask, measure.json), the references their
                background render, as in a run: scene-based residuals.
pack_iteration_ms  the same check as one iteration of a run pays it: the references analysed once and kept
                (the vision server's loader keeps them for the run), each iteration's renders new files
                (copies with their side files, so nothing of theirs is cached)
pack_pixels_ms  the same pack without side files: both subjects segmented from colours (the old path)
pack_cached_ms  the same with one loader kept across runs (decoded images and analyses reused,
                as for the references of a run, which never change)
core_ms         cold, on pixel arrays already in memory: the check and metric functions alone
sentinel_ms / compare_ms   the two parts of pack_ms, each cold
mcp_pack_ms     the same check through the vision server's in-memory MCP client (its loader caches)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from servers.blender_primary.stdio_guard import divert_stdout  # noqa: E402

OUT_FD = divert_stdout()  # Blender prints from C on fd 1; only our result goes to the real stdout

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from fastmcp import Client  # noqa: E402

from harness.measure_files import write_side_files  # noqa: E402
from harness.measure_types import MASK_SUFFIX, MEASURE_SUFFIX, side_file  # noqa: E402
from harness.scene_types import RenderPackResult, SceneInfo  # noqa: E402
from servers.viewport_vision.side_files import BACKGROUND_SUFFIX  # noqa: E402
from servers.viewport_vision.images import ImageLoader, LoadedImage  # noqa: E402
from servers.viewport_vision.metrics import compare_views  # noqa: E402
from servers.viewport_vision.sentinel import sentinel_check  # noqa: E402
from servers.viewport_vision.server import VisionCore, create_server  # noqa: E402

TASK = PROJECT / "examples" / "tasks" / "red_block"
RENDER = {"views": ["front", "side", "top", "iso"], "preset": "preview", "resolution": 256, "framing": "fixed",
          "target": [0.0, 0.0, 0.5], "distance": 7.0}


async def blender_pack(workdir: Path) -> tuple[dict[str, Path], dict[str, Path], SceneInfo]:
    """Start and truth packs as a run stores them: each render beside the worker's measurement (mask and
    measure.json), each reference beside the start scene's background (subject hidden)."""
    from servers.blender_primary.server import create_server as create_worker

    async with Client(create_worker(workdir / "work", workdir / "baselines", workdir / "output")) as worker:
        packs = []
        for program, settings in (("truth.py", RENDER), ("start.py", {**RENDER, "hide_subject": True}),
                                  ("start.py", RENDER)):
            await worker.call_tool("reset_to_baseline", {"baseline_id": "empty"})
            report = (await worker.call_tool("execute_code", {"code": (TASK / program).read_text()})).structured_content
            if not report["success"]:
                raise RuntimeError(f"{program} failed: {report}")
            pack = RenderPackResult.model_validate((await worker.call_tool("render_pack", settings)).structured_content)
            packs.append({v: Path(r.path) for v, r in pack.views.items()})
            write_side_files(pack.measure, next(iter(packs[-1].values())).parent)
        info = SceneInfo.model_validate((await worker.call_tool("get_scene_info", {})).structured_content)
    truth, background, start = packs
    for view, path in truth.items():  # the reference is a plain image: no scene side files, its background beside it
        for suffix in (MASK_SUFFIX, MEASURE_SUFFIX):
            Path(side_file(str(path), suffix)).unlink()
        background[view].replace(side_file(str(path), BACKGROUND_SUFFIX))
    return start, truth, info


def pixel_only(workdir: Path, pack: dict[str, Path], name: str) -> dict[str, Path]:
    """The same PNGs without side files: what the vision server measured from pixels alone."""
    folder = workdir / name
    folder.mkdir()
    return {v: Path(shutil.copyfile(p, folder / p.name)) for v, p in pack.items()}


def synthetic_pack(workdir: Path) -> tuple[dict[str, Path], dict[str, Path], None]:
    def draw(view: str, dx: int, size: int) -> Path:
        img = np.full((256, 256, 3), (52, 52, 56), np.uint8)
        img[170:200] = (96, 96, 98)
        cv2.rectangle(img, (100 + dx, 110), (100 + dx + size, 185), (40, 40, 190), -1)
        cv2.rectangle(img, (100 + dx + size, 118), (112 + dx + size, 185), (25, 25, 120), -1)
        path = workdir / f"{view}_{dx}_{size}.png"
        cv2.imwrite(str(path), img)
        return path

    views = RENDER["views"]
    return ({v: draw(v, 0, 50) for v in views}, {v: draw(v, 20, 70) for v in views}, None)


def render_copies(workdir: Path, pack: dict[str, Path], count: int) -> list[dict[str, Path]]:
    """`count` copies of the pack, each PNG with its side files in a folder of its own: renders no loader has seen."""
    copies = []
    for k in range(count):
        folder = workdir / f"iteration-{k}"
        folder.mkdir()
        for path in pack.values():
            for side in path.parent.glob(f"{path.stem}.*"):
                shutil.copyfile(side, folder / side.name)
        copies.append({v: folder / p.name for v, p in pack.items()})
    return copies


def median_ms(fn, runs: int) -> float:
    fn()  # warm caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-vision-") as tmp:
        workdir = Path(tmp)
        try:
            renders, references, info = await blender_pack(workdir)
            source = "blender: red_block start vs truth, 4 Workbench views at 256²"
        except ImportError as e:
            renders, references, info = synthetic_pack(workdir)
            source = f"synthetic render-like frames (bpy unavailable: {e})"
        core = VisionCore(ImageLoader([workdir]))
        arrays = {v: img.rgb for v, img in core.loader.load_views(renders).items()}
        ref_arrays = {v: img.rgb for v, img in core.loader.load_views(references).items()}
        as_str = {v: str(p) for v, p in renders.items()}
        ref_str = {v: str(p) for v, p in references.items()}

        def cold() -> VisionCore:
            return VisionCore(ImageLoader([workdir]))

        def pack(vision: VisionCore) -> None:
            vision.check(renders, references, info)

        def core_only() -> None:
            loaded = {v: LoadedImage.from_array(a) for v, a in arrays.items()}
            sentinel_check(loaded, info)
            compare_views(loaded, {v: LoadedImage.from_array(a) for v, a in ref_arrays.items()})

        result = {
            "pack_ms": median_ms(lambda: pack(cold()), args.runs),
            "pack_cached_ms": median_ms(lambda: pack(core), args.runs),
            "core_ms": median_ms(core_only, args.runs),
            "sentinel_ms": median_ms(lambda: cold().sentinel(renders, info), args.runs),
            "compare_ms": median_ms(lambda: cold().compare(renders, references), args.runs),
        }
        copies = iter(render_copies(workdir, renders, args.runs + 1))
        warm = cold()
        result["pack_iteration_ms"] = median_ms(lambda: warm.check(next(copies), references, info), args.runs)
        if info is not None:  # the same pack measured from pixels alone (no side files): the old path, side by side
            plain, plain_refs = pixel_only(workdir, renders, "plain"), pixel_only(workdir, references, "plain_refs")
            result["pack_pixels_ms"] = median_ms(lambda: cold().check(plain, plain_refs, info), args.runs)
        async with Client(create_server([workdir])) as vision:
            scene = info.model_dump(mode="json") if info else None
            times = []
            for _ in range(max(5, args.runs // 3)):
                started = time.perf_counter()
                await vision.call_tool("check", {"renders": as_str, "references": ref_str, "scene_info": scene})
                times.append((time.perf_counter() - started) * 1000)
            result["mcp_pack_ms"] = round(statistics.median(times), 2)
        scored = core.compare(renders, references)
        report = core.sentinel(renders, info)
        result.update({
            "target_pack_ms": 40,
            "views": len(renders),
            "resolution": 256,
            "runs": args.runs,
            "score_start_vs_truth": round(scored.score, 4),
            "measured_by": sorted({m.residuals.measured_by for m in scored.views.values() if m.residuals}),
            "sentinel_issues": sorted({i.category for i in report.issues}),
            "source": source,
        })
    text = json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items())
    os.write(OUT_FD, (text + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

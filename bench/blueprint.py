"""Benchmark of building from blueprints (issue 21), measured on real Blender and real drawings.

    python bench/blueprint.py [--json] [--repeat 20]

- read_ms: reading each of the hull's 2048-px drawings (harness.blueprint_drawing, median of
  --repeat; target ≤ 50 ms a view), beside decode_ms, decoding the same PNG in the same run
  (read_over_decode: how many decodes a read costs, a figure the machine's load cancels out of).
  cpu_ms is the process time of the same reads: on a loaded machine wall time includes waiting.
- hull: `colossus run examples/tasks/hull/task.toml` as a user runs it (a subprocess, 2 attempts ×
  8 iterations, parametric builder, offline). The best program and the truth are then rendered
  through the plan cameras by a real worker, and compared silhouette to silhouette: IoU per view
  (target ≥ 0.95 every view) and overall length, beam and height measured from those silhouettes
  in metres (target: within 2 %), never from the program's numbers. The start program is measured
  the same way, as the baseline the run improved on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastmcp import Client  # noqa: E402

from harness.blueprint_drawing import load_drawing, read_drawing  # noqa: E402
from harness.blueprint_types import VIEW_AXES, PlanCamera  # noqa: E402
from orchestrator.blueprint_loop import pack_settings  # noqa: E402
from orchestrator.task import load_task  # noqa: E402
from servers.blender_primary.server import create_server as create_worker  # noqa: E402

HULL = ROOT / "examples" / "tasks" / "hull"


def reading(repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for view in ("side", "top"):
        path = HULL / "plans" / f"{view}.png"
        grey = load_drawing(path)
        read_drawing(grey)
        walls, cpus, decodes = [], [], []
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            read_drawing(grey)
            walls.append((time.perf_counter() - t) * 1000)
            cpus.append((time.process_time() - c) * 1000)
            t = time.perf_counter()
            cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            decodes.append((time.perf_counter() - t) * 1000)
        read, decode = statistics.median(walls), statistics.median(decodes)
        out[view] = {"size_px": [grey.shape[1], grey.shape[0]], "read_ms": round(read, 2),
                     "cpu_ms": round(statistics.median(cpus), 2), "decode_ms": round(decode, 2),
                     "read_over_decode": round(read / decode, 2), "target_met": read <= 50.0}
    return out


def _silhouette(path: str) -> np.ndarray:
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)[:, :, 3] >= 128


def _extents(mask: np.ndarray, cam: PlanCamera) -> dict[str, float]:
    pm = cam.span_m / cam.width
    cols, rows = np.nonzero(mask.any(axis=0))[0], np.nonzero(mask.any(axis=1))[0]
    right, up = VIEW_AXES[cam.view]
    if not len(cols):
        return {right: 0.0, up: 0.0}
    return {right: (cols[-1] - cols[0] + 1) * pm, up: (rows[-1] - rows[0] + 1) * pm}


async def _plan_silhouettes(programs: dict[str, str], workdir: Path) -> dict[str, dict[str, np.ndarray]]:
    task = load_task(HULL / "task.toml")
    render = pack_settings(task).model_dump(mode="json") | {"views": ["iso"]}
    out: dict[str, dict[str, np.ndarray]] = {}
    async with Client(create_worker(workdir / "work", workdir / "baselines", workdir / "output")) as worker:
        for name, code in programs.items():
            await worker.call_tool("reset_to_baseline", {"baseline_id": "empty"})
            done = (await worker.call_tool("execute_and_render", {"code": code, "images": False, **render})).structured_content
            assert done["report"]["success"], done["report"]
            out[name] = {v: _silhouette(r["path"]) for v, r in done["render"]["views"].items() if v.startswith("plan_")}
    return out


def _compare(candidate: dict[str, np.ndarray], truth: dict[str, np.ndarray], cams: dict[str, PlanCamera]) -> dict[str, Any]:
    iou = {v: float((candidate[v] & truth[v]).sum() / max(1, (candidate[v] | truth[v]).sum())) for v in truth}
    sizes: dict[str, list[tuple[float, float]]] = {}
    for v, cam in cams.items():
        got, want = _extents(candidate[v], cam), _extents(truth[v], cam)
        for axis in want:
            sizes.setdefault(axis, []).append((got[axis], want[axis]))
    names = {"y": "length", "x": "beam", "z": "height"}  # the hull lies along Y
    dims = {names[a]: {"render_m": round(statistics.mean(g for g, _ in p), 3), "truth_m": round(statistics.mean(w for _, w in p), 3)}
            for a, p in sizes.items()}
    for d in dims.values():
        d["error"] = round(abs(d["render_m"] - d["truth_m"]) / d["truth_m"], 4)
    return {"iou": {v: round(x, 4) for v, x in iou.items()}, "dims": dims}


def hull_run(workdir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "colossus"), "run", str(HULL / "task.toml"), "--runs-dir",
                           str(workdir / "runs"), "--json"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"colossus run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    run_dir = Path(result["run_dir"])
    best = json.loads((run_dir / "best_attempt.json").read_text())
    programs = {"best": (run_dir / best["code"]).read_text(), "truth": (HULL / "truth.py").read_text(),
                "start": (HULL / "start.py").read_text()}
    masks = asyncio.run(_plan_silhouettes(programs, workdir))
    cams = {c.name: c for c in load_task(HULL / "task.toml").blueprint.cameras()}
    best_vs, start_vs = _compare(masks["best"], masks["truth"], cams), _compare(masks["start"], masks["truth"], cams)
    met = all(x >= 0.95 for x in best_vs["iou"].values()) and all(d["error"] <= 0.02 for d in best_vs["dims"].values())
    threshold = load_task(HULL / "task.toml").budget.threshold
    return {"status": result.get("status"), "best_score": best["score"], "reached_threshold": best["score"] >= threshold, "best": f"attempt {best['attempt']}, iteration {best['iteration']}",
            "wall_s": round(wall, 1), "best_vs_truth": best_vs, "start_vs_truth": start_vs, "targets_met": met}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="colossus-bench-blueprint-") as tmp:
        report = {"reading": reading(args.repeat), "hull": hull_run(Path(tmp))}
    print(json.dumps(report, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

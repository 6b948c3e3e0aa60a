"""The memory bomb against a pool worker: how far past its limit it gets and how soon the caller hears.

    python bench/memory.py [--limit-mb 3072] [--json]

A one-worker pool with `memory_limit_mb` = limit runs code that appends 256 MiB blocks (touched)
to a list until something stops it. A thread of this process samples the worker's resident memory
(its process and children) every 10 ms from outside. Each mechanism is measured in the same run:

posix     the default on Linux/macOS: RLIMIT_AS set by the worker on itself + its RSS watchdog
portable  COLOSSUS_PORTABLE=1: the RSS watchdog alone (what Windows gets)

Per mode: peak_mb, peak_ratio (peak ÷ limit; target ≤ 1.10), answer_s (target ≤ 5), what the
caller got (error class and message, or the pool's error) and whether the scene kept its objects.
The bomb's own speed depends on the machine's load, so two figures put answer_s in context:
reaction_s, from the peak sample to the answer, and answer_ratio, answer_s ÷ the time this
process takes, in the same run, to allocate and touch the same number of blocks (alloc_s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.config import PoolConfig  # noqa: E402
from gateway.errors import WorkerError  # noqa: E402
from gateway.workers.pool import Pool  # noqa: E402
from gateway.workers.pool_scene import PoolScene  # noqa: E402
from harness.platform_calls import PORTABLE_ENV  # noqa: E402

BOMB = "blocks = []\nwhile True:\n    blocks.append(b'x' * (256 * 2**20))"
ADD_CUBE = "import bpy\nbpy.ops.mesh.primitive_cube_add()\nbpy.context.object.name = 'survivor'"
SAMPLE_S = 0.01
BLOCK = 256 * 2**20
TARGETS = {"peak_ratio": 1.10, "answer_s": 5.0}


class RssSampler:
    """Samples a process tree's resident memory every 10 ms in a thread; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.peak_at, self.samples = pid, 0, 0.0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(self.pid)
                rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
                if rss > self.peak:
                    self.peak, self.peak_at = rss, time.monotonic()
                self.samples += 1
            time.sleep(SAMPLE_S)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def allocation_time(blocks: int) -> float:
    """The baseline: how long this process takes to allocate and touch `blocks` blocks like the bomb does."""
    started, held = time.monotonic(), []
    for _ in range(blocks):
        held.append(b"x" * BLOCK)
    return time.monotonic() - started


async def bomb(limit_mb: int, portable: bool) -> dict[str, Any]:
    os.environ.pop(PORTABLE_ENV, None)
    if portable:
        os.environ[PORTABLE_ENV] = "1"
    with tempfile.TemporaryDirectory(prefix="colossus-bench-memory-") as workdir:
        pool = Pool(PoolConfig(workers=1, workdir=Path(workdir), memory_limit_mb=limit_mb))
        pool.start()
        try:
            await pool.wait_ready(120)
            scene = PoolScene(pool, (await pool.lease()).scene_id)
            assert (await scene.execute(ADD_CUBE)).success
            worker = pool.get(scene.scene_id).worker
            row: dict[str, Any] = {"mode": "portable" if portable else "posix", "limit_mb": limit_mb,
                                   "memory_guard": worker.memory_guard}
            with RssSampler(worker.pid or 0) as sampler:
                started = time.monotonic()
                try:
                    report = await scene.execute(BOMB, timeout_s=60)
                    row["answer"] = f"{report.error_class}: {report.exception.message if report.exception else ''}"
                    row["worker_timings_s"] = {k: round(v, 2) for k, v in report.timings.items()}
                except WorkerError as e:
                    row["answer"] = str(e)[:300]
                answered = time.monotonic()
                row["answer_s"] = round(answered - started, 2)
                row["reaction_s"] = round(answered - sampler.peak_at, 2)
            row["peak_mb"] = round(sampler.peak / 2**20)
            row["peak_ratio"] = round(sampler.peak / 2**20 / limit_mb, 3)
            row["samples"] = sampler.samples
            row["alloc_s"] = round(allocation_time(sampler.peak // BLOCK), 2)
            row["answer_ratio"] = round(row["answer_s"] / row["alloc_s"], 2)
            row["scene_kept"] = [o.name for o in (await scene.info()).objects] == ["survivor"]
            row["same_worker"] = pool.get(scene.scene_id).worker.pid == sampler.pid
            return row
        finally:
            await pool.stop()
            os.environ.pop(PORTABLE_ENV, None)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=int, default=3072)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [await bomb(args.limit_mb, portable=False), await bomb(args.limit_mb, portable=True)]
    if args.json:
        print(json.dumps({"targets": TARGETS, "rows": rows}, indent=2))
        return
    for row in rows:
        print(f"{row['mode']:9s} peak {row['peak_mb']} MiB ({row['peak_ratio']:.3f}× limit, {row['samples']} samples), "
              f"answered in {row['answer_s']} s ({row['reaction_s']} s after the peak; {row['answer_ratio']}× the "
              f"{row['alloc_s']} s this process takes for the same blocks), scene kept: {row['scene_kept']}, same worker: {row['same_worker']}")
        print(f"          guard: {row['memory_guard']}\n          answer: {row['answer']}")
        print(f"          worker timings: {row.get('worker_timings_s')}")


if __name__ == "__main__":
    asyncio.run(main())

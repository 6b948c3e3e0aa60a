"""Benchmark of the run dashboard on a real run, in a real browser.

    python bench/dashboard.py [--attempts 2] [--iterations 8] [--json]

The gateway (pool, vision server, RunService, the /runs routes) runs in this process with uvicorn,
as `colossus serve --http` does; Chromium (the system one) opens /runs/<run_id> while a parametric
run of examples/tasks/red_block goes on.

- delay_s: per iteration that landed after the page was open, the time from its verifier.json
  (written when the iteration is checkpointed) to the page showing it (p50 target ≤ 1 s).
- stream_cost: the gateway's time spent serving the dashboard during the run (every RunService
  status read — the SSE stream's and the JSON routes' — and every iteration read), per iteration,
  against the mean iteration wall time (target ≤ 2 %). It runs on the coordinator's own event loop,
  so it is time the loop lost.
- page_bytes: the page's weight (one file, nothing else is fetched but the run's images).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

import uvicorn  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

import gateway.dashboard.iteration as iteration  # noqa: E402
from gateway.config import GatewayConfig  # noqa: E402
from gateway.dashboard.page import page_html  # noqa: E402
from gateway.http_security import secured_http_app  # noqa: E402
from gateway.server import create_gateway  # noqa: E402
from orchestrator.checkpoint import Checkpoint  # noqa: E402
from orchestrator.service import RunService  # noqa: E402

TASK = PROJECT / "examples" / "tasks" / "red_block" / "task.toml"


class Stopwatch:
    """Sums the wall time of calls to the functions it wraps."""

    def __init__(self) -> None:
        self.seconds, self.calls = 0.0, 0

    def sync(self, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1
        return timed


async def bench(attempts: int, iterations: int, root: Path) -> dict[str, Any]:
    config = GatewayConfig.from_raw({"pool": {"workers": 2, "workdir": str(root / "pool"), "health_interval_s": 3600}})
    config.runs_dir = root / "runs"
    app = create_gateway(config)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(secured_http_app(app, config.http, "127.0.0.1"), host="127.0.0.1",
                                           port=port, lifespan="on", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    status_reads, iteration_reads = Stopwatch(), Stopwatch()
    RunService._status = status_reads.sync(RunService._status)  # type: ignore[method-assign]
    iteration.iteration_detail = iteration_reads.sync(iteration.iteration_detail)  # looked up per call: waits untimed
    try:
        await app.services.pool.wait_ready(90, count=2)  # type: ignore[attr-defined]
        service = app.services.runs()  # type: ignore[attr-defined]
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"))
            page = await browser.new_page()
            run_id = await service.start(TASK, recall=False, attempts=attempts, iterations=iterations)
            await page.goto(f"http://127.0.0.1:{port}/runs/{run_id}")
            await service.wait(run_id)
            await page.locator("#status").filter(has_text="completed").wait_for(timeout=30_000)
            seen: dict[str, int] = await page.evaluate("window.colossusSeen")
            await browser.close()
    finally:
        server.should_exit = True
        await serving
    folder = config.runs_dir / run_id
    first = min(seen.values())
    delays = sorted(ms / 1000 - (folder / "attempts" / f"attempt-{int(a):03d}" / "iterations" / f"iter-{int(k):03d}"
                                 / "verifier.json").stat().st_mtime
                    for key, ms in seen.items() if ms > first for a, k in [key.split("/")])
    steps = [step for state in Checkpoint.read(folder).values() for step in state.memory.steps]
    iteration_s = statistics.mean(step.elapsed_s for step in steps)
    per_iteration_ms = (status_reads.seconds + iteration_reads.seconds) * 1000 / len(steps)
    return {
        "attempts": attempts, "iterations": len(steps),
        "delay_s": {"n": len(delays), "p50": round(statistics.median(delays), 4),
                    "p90": round(delays[int(0.9 * (len(delays) - 1))], 4), "max": round(delays[-1], 4)},
        "stream_cost": {"ms_per_iteration": round(per_iteration_ms, 3),
                        "status_reads": status_reads.calls, "status_ms": round(status_reads.seconds * 1000, 2),
                        "iteration_reads": iteration_reads.calls, "iteration_ms": round(iteration_reads.seconds * 1000, 2),
                        "iteration_s": round(iteration_s, 3),
                        "percent_of_iteration": round(100 * per_iteration_ms / 1000 / iteration_s, 3)},
        "page_bytes": len(page_html().encode()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print only the JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_dashboard_") as tmp:
        result = asyncio.run(bench(args.attempts, args.iterations, Path(tmp)))
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()

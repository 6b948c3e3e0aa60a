"""Progress notifications while a gateway call is in flight, so a host sees it is not stuck."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from fastmcp.server.context import Context

__all__ = ["heartbeat"]

BEAT_S = 1.0


@contextlib.asynccontextmanager
async def heartbeat(ctx: Context | None, label: str, budget_s: float) -> AsyncIterator[None]:
    """Report `label` with elapsed seconds (of `budget_s`) now and every second until the block ends."""
    if ctx is None:
        yield
        return
    started = time.monotonic()

    async def beat() -> None:
        while True:
            elapsed = time.monotonic() - started
            with contextlib.suppress(Exception):
                await ctx.report_progress(progress=round(elapsed, 1), total=budget_s, message=f"{label} ({elapsed:.0f} s)")
            await asyncio.sleep(BEAT_S)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task

"""The protocol's tasks extension (io.modelcontextprotocol/tasks, 2026-07-28) for the long jobs.

start_run, fork_run, resume_run and finalize_asset are declared `task=TASKS`: a client that declares
the extension gets a task at once, polls it with tasks/get and may tasks/cancel it; the tool body
then runs as that task (`ctx.is_background_task`) and waits for the job's end, so the task's result
is what get_run / get_finalize return at the end. Every other client gets today's handle at once
and polls. Cancelling a run's task cancels the run (it stays resumable, as with cancel_run).

fastmcp's support lives in the `fastmcp-tasks` package (docket in memory, one queue per gateway);
without it installed, `TASKS` is False and every client polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import uuid
from typing import Any

from fastmcp import FastMCP
from fastmcp.server.context import Context

from gateway.handles import MAX_WAIT_S
from gateway.services import GatewayServices

__all__ = ["TASKS", "add_tasks", "as_task", "run_to_end"]

TASKS = importlib.util.find_spec("fastmcp_tasks") is not None


def add_tasks(app: FastMCP) -> None:
    """Serve the extension (tasks/get, tasks/cancel) when fastmcp-tasks is installed."""
    if TASKS:
        from fastmcp_tasks import TasksExtension

        app.add_extension(TasksExtension(url="memory://", name=f"colossus-{uuid.uuid4().hex[:12]}"))


def as_task(ctx: Context | None) -> bool:
    """True when this call runs as a task, so it should wait for the job's end."""
    return ctx is not None and ctx.is_background_task


async def run_to_end(services: GatewayServices, run_id: str, ctx: Context | None) -> Any:
    """Wait until the run stops, reporting its best score as progress; a cancelled task cancels the run."""
    runs = services.runs()
    try:
        status = await runs.get(run_id, wait_s=0)
        while status.active:
            if ctx is not None:
                with contextlib.suppress(Exception):
                    await ctx.report_progress(progress=status.best_score or 0.0, total=1.0,
                                              message=f"run {run_id}: {status.status}, best {status.best_score}")
            status = await runs.get(run_id, wait_s=MAX_WAIT_S)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await asyncio.shield(runs.cancel(run_id))
        raise
    return status

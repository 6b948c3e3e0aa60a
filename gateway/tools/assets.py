"""finalize_asset and get_finalize: the asset pipeline behind a handle, like start_run / get_run.

A job finalizes a pool scene (saved to a .blend first, so the host's scene is left as it was), a
run's best attempt or a mesh file. It runs on two leased scenes: one for the stages and a fresh
one for the round-trip re-import (the same scene, reset by the import, when the pool has one
worker, or no second one is free). Calls return at once or after a bounded wait, sending progress notifications with the
current stage meanwhile. For a client that declares the protocol's tasks extension, finalize_asset
is a task that ends with the job, its result get_finalize's at the end (gateway.tasks); cancelling the
task cancels the job (AssetJobs.cancel).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Annotated

import mcp_types
from fastmcp import FastMCP
from fastmcp.server.context import Context
from fastmcp.tools.base import ToolResult
from fastmcp.utilities.types import Image
from pydantic import Field

from gateway.errors import BadRequest, tool_errors
from gateway.handles import MAX_WAIT_S, JobId, ProfileName, RunId, SceneId
from gateway.workers.pool_scene import PoolScene
from gateway.services import GatewayServices
from gateway.tasks import TASKS, as_task
from gateway.tools.toolsets import ASSETS
from orchestrator.artifacts import RunFolder
from orchestrator.assets.jobs import AssetJobs, AssetJobStatus
from orchestrator.assets.source import AssetSource, resolve_source

__all__ = ["register"]

Wait = Annotated[float, Field(ge=0, le=MAX_WAIT_S, description="wait up to this many seconds for the next stage")]


async def _watch(jobs: AssetJobs, job_id: str, wait_s: float, ctx: Context | None) -> AssetJobStatus:
    """Wait up to wait_s for the job to end, reporting its stage as progress."""
    deadline = time.monotonic() + min(wait_s, MAX_WAIT_S)
    status = jobs.get_now(job_id)
    while status.status == "running" and (left := deadline - time.monotonic()) > 0:
        if ctx is not None:
            with contextlib.suppress(Exception):
                await ctx.report_progress(progress=status.progress, total=1.0,
                                          message=f"finalizing: {status.stage} (job {job_id})")
        status = await jobs.get(job_id, wait_s=min(left, 1.0))
    return status


def _result(status: AssetJobStatus) -> ToolResult:
    """The status, plus the LOD renders as images once the job is done."""
    images = []
    if status.result is not None:
        images = [Image(path=Path(p)).to_image_content() for p in status.result.outputs
                  if Path(p).parent.name == "renders" and Path(p).is_file()]
    text = mcp_types.TextContent(type="text", text=status.model_dump_json())
    return ToolResult(content=[text, *images], structured_content=status.model_dump(mode="json"))


def register(app: FastMCP, services: GatewayServices) -> None:
    async def source_of(scene_id: str | None, run_id: str | None, path: str | None) -> AssetSource:
        if sum(x is not None for x in (scene_id, run_id, path)) != 1:
            raise BadRequest("give exactly one of scene_id, run_id or path")
        if run_id is not None:
            return resolve_source(RunFolder.open(services.config.runs_dir, run_id).root)
        if path is not None:
            return resolve_source(Path(path))
        blend = services.config.runs_dir / "assets" / ".sources" / f"{scene_id}-{time.time_ns()}.blend"
        await PoolScene(services.pool, scene_id).save_blend(blend)
        return resolve_source(blend).model_copy(update={"name": scene_id})

    @app.tool(tags={ASSETS}, task=TASKS)
    @tool_errors
    async def finalize_asset(
        profile: ProfileName,
        scene_id: Annotated[SceneId | None, Field(description="finalize this scene as it is now")] = None,
        run_id: Annotated[RunId | None, Field(description="finalize this run's best attempt")] = None,
        path: Annotated[str | None, Field(description="finalize this .blend/.obj/.fbx/.glb/.gltf/.stl/.ply file")] = None,
        objects: Annotated[list[str] | None, Field(max_length=256, description="only these mesh objects (leave a "
                                                                               "ground plane out); omit for all")] = None,
        wait_s: Wait = 0.0,
        ctx: Context | None = None,
    ) -> ToolResult:
        """Turn a scene, a run's best attempt or a mesh file into an engine-ready asset (cleanup, UVs, baked maps,
        LODs, export, validation) in the background; returns job_id at once (or after wait_s) for get_finalize."""
        jobs = services.assets()
        chosen = jobs.profile(profile)
        job_id = jobs.start((await source_of(scene_id, run_id, path)).model_copy(update={"objects": objects}), chosen)
        try:
            status = await _watch(jobs, job_id, wait_s, ctx)
            while as_task(ctx) and status.status == "running":
                status = await _watch(jobs, job_id, MAX_WAIT_S, ctx)
        except asyncio.CancelledError:  # a cancelled task cancels its job; a handle's caller may stop waiting
            if as_task(ctx):
                await asyncio.shield(jobs.cancel(job_id))
            raise
        return _result(status)

    @app.tool(tags={ASSETS}, annotations={"readOnlyHint": True})
    @tool_errors
    async def get_finalize(
        job_id: JobId,
        wait_s: Wait = 0.0,
        ctx: Context | None = None,
    ) -> ToolResult:
        """Status of a finalize job: stage, progress, and when done the outputs, LOD triangle counts, the
        verdict (valid) and a render of every LOD. Waits up to wait_s while it runs."""
        return _result(await _watch(services.assets(), job_id, wait_s, ctx))

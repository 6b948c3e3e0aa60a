"""The scene tools: lease a Blender worker as a scene_id, run code on it, render, verify, release.

reset_to_baseline leases a worker from the pool (or resets a scene in place) and returns its
scene_id; execute_code, render_pack, verify and run_attempt act on that scene; release_scene
returns the worker. `verify` and `run_attempt` add the vision server's checks. Every call ends
within ~50 s: code is capped at MAX_CODE_TIMEOUT_S and renders at RENDER_CAPS.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import mcp_types
from fastmcp import FastMCP
from fastmcp.server.context import Context
from fastmcp.tools.base import ToolResult
from pydantic import BaseModel, Field

from gateway.errors import BadRequest, WorkerToolError, tool_errors
from gateway.handles import MAX_WAIT_S, BaselineId, SceneId
from gateway.progress import heartbeat
from gateway.services import GatewayServices
from gateway.tools.toolsets import CORE
from gateway.verification import AttemptResult, Verification, attempt_feedback, verify_images
from gateway.workers.leases import EMPTY
from gateway.workers.pool_scene import PoolScene
from harness.render_options import render_options
from harness.report import ExecutionReport
from harness.scene_types import RenderSettings

__all__ = ["register", "SCENE_TOOLS", "SceneHandle"]

SCENE_TOOLS = ("reset_to_baseline", "execute_code", "render_pack", "verify", "release_scene", "run_attempt")
MAX_CODE_TIMEOUT_S = 40.0
RENDER_CAPS = {"resolution": 2048, "samples": 1024}  # what one host call may ask for: it must end in ~50 s

Code = Annotated[str, Field(description="Python using bpy, run inside Blender", max_length=200_000)]
CodeTimeout = Annotated[float, Field(gt=0, le=MAX_CODE_TIMEOUT_S, description="interrupt the code after this many seconds")]
Images = Annotated[dict[str, str], Field(description="view name → image path, base64 or data URL")]


class SceneHandle(BaseModel):
    scene_id: str
    baseline_id: str
    worker: str
    elapsed_ms: float
    incidents: list[str] = Field(default_factory=list, description="worker restarts this scene went through")


def register(app: FastMCP, services: GatewayServices) -> None:
    config = services.config

    def scene(scene_id: str) -> PoolScene:
        services.pool.get(scene_id)  # UnknownScene before any work
        return PoolScene(services.pool, scene_id)

    # Reports (execution, render pack, verification) go out as structured content without an output schema:
    # their nested models, inlined, would cost a host thousands of tokens per tools/list (bench/tools.py).
    @app.tool(tags={CORE}, annotations={"destructiveHint": True})
    @tool_errors
    async def reset_to_baseline(
        baseline_id: BaselineId = EMPTY,
        scene_id: Annotated[str | None, Field(description="reset this scene instead of leasing a new one")] = None,
        ctx: Context | None = None,
    ) -> SceneHandle:
        """Lease a Blender scene reset to a baseline and get its scene_id for the other tools (or reset scene_id in
        place); release_scene when done."""
        started = time.perf_counter()
        async with heartbeat(ctx, "leasing a Blender worker", config.pool.queue_wait_s):
            if scene_id is None:
                lease = await services.pool.lease(baseline_id)
            else:
                await scene(scene_id).reset(baseline_id)
                lease = services.pool.get(scene_id)
        return SceneHandle(scene_id=lease.scene_id, baseline_id=baseline_id, worker=lease.worker.label,
                           elapsed_ms=(time.perf_counter() - started) * 1000, incidents=lease.incidents)

    @app.tool(tags={CORE}, annotations={"destructiveHint": True}, output_schema=None)
    @tool_errors
    async def execute_code(scene_id: SceneId, code: Code, timeout_s: CodeTimeout = 30.0,
                           ctx: Context | None = None) -> ExecutionReport:
        """Run bpy code in the scene; returns the execution report (success, stdout, exception with line, scene
        changes). Failing code is a report with success=false, not an error."""
        async with (heartbeat(ctx, "running code in Blender", timeout_s),
                    services.history.recording("execute_code", scene_id, code) as call):
            call.report = await scene(scene_id).execute(code, timeout_s)
            return call.report

    @app.tool(tags={CORE}, annotations={"readOnlyHint": True}, output_schema=None)
    @tool_errors
    @render_options(RENDER_CAPS)
    async def render_pack(scene_id: SceneId, render: RenderSettings, ctx: Context | None = None) -> ToolResult:
        """Render the camera pack (front, side, top, iso by default) and return the images and their paths; preset
        `final` is Cycles, framing `auto` frames the scene instead of using target/distance/lens."""
        async with heartbeat(ctx, "rendering the camera pack", config.pool.render_timeout_s):
            pack, images = await scene(scene_id).render(render)
        summary = mcp_types.TextContent(type="text", text=json.dumps(
            {view: v.path for view, v in pack.views.items()}))
        return ToolResult(content=[summary, *images], structured_content=pack.model_dump(mode="json"))

    @app.tool(tags={CORE}, annotations={"readOnlyHint": True}, output_schema=None)
    @tool_errors
    async def verify(
        scene_id: Annotated[str | None, Field(description="verify this scene's latest renders (rendered now if none)")] = None,
        images: Images | None = None,
        task: Annotated[str, Field(description="what the scene should show; used by the critique")] = "",
        reference: Images | None = None,
        ctx: Context | None = None,
    ) -> Verification:
        """Check a scene's renders (or given images): gross failures, metrics against a reference and, with a verifier
        model configured, a critique; returns a score, passed and what to fix."""
        async with heartbeat(ctx, "verifying renders", MAX_WAIT_S):
            info = None
            if scene_id is not None:
                s = scene(scene_id)
                lease = services.pool.get(scene_id)
                if lease.renders:
                    info = await s.info()
                else:  # render the default pack, its scene facts in the same call
                    info = (await s.render(RenderSettings(), with_scene_info=True))[0].scene
                images = {**{v: str(p) for v, p in lease.renders.items()}, **(images or {})}
            return await verify_images(services.vision, dict(images or {}), task, reference, info,
                                       critique=services.verifier_configured())

    @app.tool(tags={CORE}, annotations={"destructiveHint": True})
    @tool_errors
    async def release_scene(scene_id: SceneId) -> dict[str, Any]:
        """Return the scene's worker to the pool (its state is discarded)."""
        await services.pool.release(scene_id)
        return {"released": scene_id}

    @app.tool(tags={CORE}, annotations={"destructiveHint": True})
    @tool_errors
    @render_options(RENDER_CAPS)
    async def run_attempt(
        code: Annotated[Code | None, Field(description="the bpy program of this attempt (host-driven)")] = None,
        scene_id: Annotated[str | None, Field(description="scene to run on; a new one from baseline_id when omitted")] = None,
        baseline_id: BaselineId = EMPTY,
        task: str = "",
        reference: Images | None = None,
        *,
        render: RenderSettings,
        timeout_s: Annotated[float, Field(gt=0, le=30)] = 20.0,
        ctx: Context | None = None,
    ) -> ToolResult:
        """execute_code, render_pack and verify in one call; returns the report, images, verification and feedback
        to act on. Keep the scene_id to iterate on it."""
        if code is None:
            raise BadRequest("run_attempt needs `code` (host-driven); coordinator-driven attempts run inside start_run")
        async with (heartbeat(ctx, "running the attempt", timeout_s + 20),
                    services.history.recording("run_attempt", scene_id, code) as call):
            if scene_id is None:
                scene_id = call.scene_id = (await services.pool.lease(baseline_id)).scene_id
            done, images = await scene(scene_id).execute_render(code, render, timeout_s, with_scene_info=True)
            report, pack, verification = done.report, done.render, None
            call.report = report
            if done.render_error is not None:
                raise WorkerToolError(done.render_error)
            if pack is not None:
                verification = await verify_images(
                    services.vision, {v: r.path for v, r in pack.views.items()}, task, reference,
                    pack.scene, critique=services.verifier_configured())
        result = AttemptResult(scene_id=scene_id, report=report, render=pack, verification=verification,
                               feedback=attempt_feedback(report, verification))
        text = mcp_types.TextContent(type="text", text=f"scene_id={scene_id}\n{result.feedback}")
        return ToolResult(content=[text, *images], structured_content=result.model_dump(mode="json"))

    @app.resource("renders://{scene_id}/{view}", mime_type="image/png")
    @tool_errors
    async def render_image(scene_id: str, view: str) -> bytes:
        """The latest render of one view of a scene."""
        path = services.pool.get(scene_id).renders.get(view)
        if path is None:
            raise BadRequest(f"scene {scene_id} has no render of view {view!r}; call render_pack")
        return path.read_bytes()

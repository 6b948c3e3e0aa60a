"""The `render_pack` tool: a deterministic set of named views of the scene, as PNGs and images.

The scene is left as it was: the camera (and, for Cycles, a sun when the scene has no light) is
added for the render only and removed afterwards with its data, and every render setting the
preset touches is restored. Workbench shows a material's viewport colour, so for `preview` each
material's Principled base colour is copied there for the duration of the pack.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import bpy
from fastmcp import Context, FastMCP
from fastmcp.tools.base import ToolResult
from fastmcp.utilities.types import Image
from mathutils import Vector
from mcp_types import ImageContent
from pydantic import Field

from harness.render_options import render_options
from harness.scene_types import ExecutedRender, RenderedView, RenderPackResult, RenderSettings
from servers.blender_primary.camera_pack import auto_frame, camera_matrix
from servers.blender_primary.errors import RenderError
from servers.blender_primary.execution import Code, TimeoutS, run_snippet
from servers.blender_primary.measure import measure_pack, measure_view
from servers.blender_primary.plan_views import render_plans
from servers.blender_primary.png_text import strip_text_chunks
from servers.blender_primary.render_state import RenderSession
from servers.blender_primary.scene_facts import scene_info, world_bounds
from servers.blender_primary.state import worker_state

__all__ = ["render_views", "register"]


def render_views(settings: RenderSettings, out_dir: Path) -> RenderPackResult:
    """Render every view of `settings` into `out_dir/<view>.png`; the scene is unchanged afterwards."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    scene = bpy.context.scene
    views: dict[str, RenderedView] = {}
    geometry, measured = measure_pack(scene, settings.subject)
    with RenderSession(scene, settings) as session:
        if settings.hide_subject:  # the scene's own background, for segmenting a reference against it
            session.hide(measured.subject)
        target, distance = Vector(settings.target), settings.distance
        if settings.framing == "auto":
            target, distance = _auto_target(scene, session.added, settings) or (target, distance)
        for view in dict.fromkeys(settings.views):  # each view once, in the order asked
            path = out_dir / f"{view}.png"
            matrix = camera_matrix(view, target, distance, settings.orbit)
            location, rotation, _ = matrix.decompose()
            # loc/rot (not matrix_world) so the depsgraph sees the move before this render
            session.camera.location, session.camera.rotation_euler = location, rotation.to_euler()
            session.camera.data.clip_end = max(1000.0, distance * 4)
            scene.render.filepath = str(path)
            t = time.perf_counter()
            try:
                bpy.ops.render.render(write_still=True)
            except RuntimeError as exc:
                raise RenderError(f"view {view!r} failed: {exc}") from exc
            strip_text_chunks(path)
            views[view] = RenderedView(
                view=view, path=str(path), width=settings.resolution, height=settings.resolution,
                render_ms=(time.perf_counter() - t) * 1000,
            )
            measured.views[view] = measure_view(geometry, view, matrix, settings.lens, settings.resolution)
            measured.views[view].shadows = settings.preset == "final"
        views.update(render_plans(session, settings.plans, out_dir))
        added, device = list(session.added), session.device
    effective = settings.model_copy(update={"target": tuple(target), "distance": distance})
    return RenderPackResult(settings=effective, views=views, total_ms=(time.perf_counter() - started) * 1000,
                            added_for_render=added, measure=measured, cycles=device)


def _auto_target(scene: bpy.types.Scene, exclude: list[str], settings: RenderSettings) -> tuple[Vector, float] | None:
    """Target and distance fitting the visible geometry, or only the focus objects when named."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    focus = set(settings.focus_objects or ())
    boxes = [
        world_bounds(obj, depsgraph)
        for obj in scene.objects
        if obj.name not in exclude and obj.type not in ("CAMERA", "LIGHT", "EMPTY", "LIGHT_PROBE")
        and (obj.name in focus if focus else obj.visible_get())
    ]
    if not boxes:
        return None
    low = Vector([min(b[0][i] for b in boxes) for i in range(3)])
    high = Vector([max(b[1][i] for b in boxes) for i in range(3)])
    return auto_frame(low, high, settings.lens)


Images = Annotated[bool, Field(description="attach the PNGs as image content; false: paths only (a client on this machine)")]


def _pack(ctx: Context, settings: RenderSettings, with_scene_info: bool, images: bool) -> tuple[RenderPackResult, list[ImageContent]]:
    result = render_views(settings, worker_state(ctx).renders_dir / f"pack-{time.time_ns()}")
    if with_scene_info:
        result.scene = scene_info()
    return result, [Image(path=v.path).to_image_content() for v in result.views.values()] if images else []


def register(mcp: FastMCP) -> None:
    @mcp.tool(output_schema=None)
    @render_options()
    async def render_pack(ctx: Context, render: RenderSettings, with_scene_info: bool = False, images: Images = True) -> ToolResult:
        """Render the camera pack (one square image per view) and return the images and their paths; the scene is
        unchanged.

        preset `preview` is Workbench, `final` Cycles (on a GPU when there is one; `cycles` in the result says
        which); framing `fixed` uses target/distance/lens (comparable with references), `auto` frames the geometry."""
        result, content = _pack(ctx, render, with_scene_info, images)
        return ToolResult(content=content, structured_content=result.model_dump(mode="json"))

    @mcp.tool(output_schema=None)
    @render_options()
    async def execute_and_render(
        code: Code, ctx: Context, render: RenderSettings, timeout_s: TimeoutS = 30.0, with_scene_info: bool = False,
        images: Images = True,
    ) -> ToolResult:
        """execute_code, then render_pack only if the code succeeded: one round trip per act-and-look step."""
        state = worker_state(ctx)
        result = ExecutedRender(report=run_snippet(code, timeout_s, state.code_policy, state.tools, state.memory_guard))
        content: list[ImageContent] = []
        if result.report.success:
            try:
                result.render, content = _pack(ctx, render, with_scene_info, images)
            except RenderError as e:
                result.render_error = str(e)
        return ToolResult(content=content, structured_content=result.model_dump(mode="json"))

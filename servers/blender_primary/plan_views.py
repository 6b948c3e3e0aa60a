"""Orthographic renders matching a task's blueprints (DESIGN.md "Blueprints").

Each plan camera looks along its view's direction with ortho scale = span_m across the image
width (sensor fit horizontal), the drawing's aspect, and the image centre where the drawing's
centre lies in the world. The film is transparent, so the PNG's alpha is the scene's exact
silhouette as Blender rasterised it: the measurer reads that, never a colour guess.
"""

from __future__ import annotations

import time
from pathlib import Path

import bpy
from mathutils import Vector

from harness.blueprint_types import PlanCamera
from harness.scene_types import RenderedView
from servers.blender_primary.camera_pack import camera_matrix
from servers.blender_primary.errors import RenderError
from servers.blender_primary.png_text import strip_text_chunks
from servers.blender_primary.render_state import RenderSession

__all__ = ["render_plans"]


def _target(plan: PlanCamera) -> Vector:
    right, up = plan.centre
    return {"front": Vector((right, 0.0, up)), "side": Vector((0.0, right, up)), "top": Vector((right, up, 0.0))}[plan.view]


def render_plans(session: RenderSession, plans: list[PlanCamera], out_dir: Path) -> dict[str, RenderedView]:
    """Render each plan camera into out_dir/<name>.png (RGBA); the session restores every setting."""
    scene, render, camera = session.scene, session.scene.render, session.camera
    out: dict[str, RenderedView] = {}
    if not plans:
        return out
    render.film_transparent = True  # the session saved these on entry and puts them back on exit
    render.image_settings.color_mode = "RGBA"
    data = camera.data
    data.type, data.sensor_fit = "ORTHO", "HORIZONTAL"
    try:
        for plan in plans:
            distance = 10.0 * plan.span_m + 100.0
            location, rotation, _ = camera_matrix(plan.view, _target(plan), distance).decompose()
            camera.location, camera.rotation_euler = location, rotation.to_euler()
            data.ortho_scale, data.clip_start, data.clip_end = plan.span_m, 0.01, 2 * distance
            render.resolution_x, render.resolution_y = plan.width, plan.height
            path = out_dir / f"{plan.name}.png"
            scene.render.filepath = str(path)
            t = time.perf_counter()
            try:
                bpy.ops.render.render(write_still=True)
            except RuntimeError as exc:
                raise RenderError(f"plan view {plan.name!r} failed: {exc}") from exc
            strip_text_chunks(path)
            out[plan.name] = RenderedView(view=plan.name, path=str(path), width=plan.width, height=plan.height,
                                          render_ms=(time.perf_counter() - t) * 1000)
    finally:
        data.type, data.sensor_fit = "PERSP", "AUTO"
    return out

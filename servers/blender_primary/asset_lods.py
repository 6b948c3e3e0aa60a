"""Stage 6 of asset finalization: copies of a mesh decimated to a triangle budget, and their renders.

One tool makes every reduced copy: the low mesh (LOD0) from the cleaned high mesh, then each
further LOD from LOD0, so the UVs and the single baked material carry over (collapse decimation
interpolates UVs). Collapse lands near, not exactly on, the ratio asked, so it is repeated with
the remaining ratio until the copy fits or stops shrinking; the caller checks the budget.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import bpy
from fastmcp import Context, FastMCP
from pydantic import Field

from harness.asset_types import DecimatedMesh, LodRenders
from harness.scene_types import RenderSettings
from servers.blender_primary.asset_objects import job_folder, mesh_object, select_only, triangle_count
from servers.blender_primary.paths import check_id
from servers.blender_primary.render import render_views
from servers.blender_primary.state import worker_state

__all__ = ["decimate", "render_each", "register"]

MAX_PASSES = 4


def decimate(source: str, target: str, max_triangles: int) -> DecimatedMesh:
    """A copy of `source` called `target` with at most about `max_triangles` triangles (replaces an older `target`)."""
    original = mesh_object(source)
    if (old := bpy.data.objects.get(target)) is not None:
        bpy.data.objects.remove(old)
    copy = original.copy()
    copy.data = original.data.copy()
    copy.name = copy.data.name = target
    bpy.context.scene.collection.objects.link(copy)
    triangles = triangle_count(copy.data)
    for _ in range(MAX_PASSES):
        if triangles <= max_triangles:
            break
        modifier = copy.modifiers.new("decimate", "DECIMATE")
        modifier.decimate_type = "COLLAPSE"
        modifier.use_collapse_triangulate = True
        modifier.ratio = max(max_triangles / triangles * 0.99, 1e-4)
        select_only([copy], copy)
        bpy.ops.object.modifier_apply(modifier=modifier.name)
        reduced = triangle_count(copy.data)
        if reduced >= triangles:
            break
        triangles = reduced
    return DecimatedMesh(object=copy.name, triangles=triangles)


def render_each(names: list[str], folder: Path, resolution: int) -> LodRenders:
    """An auto-framed iso Workbench render of each object alone; the others are hidden meanwhile."""
    objects = [mesh_object(name) for name in names]
    hidden = {obj: obj.hide_render for obj in bpy.context.scene.objects}
    images: dict[str, str] = {}
    try:
        for obj in objects:
            for other in bpy.context.scene.objects:
                other.hide_render = other is not obj and other.type not in ("CAMERA", "LIGHT")
            settings = RenderSettings(views=["iso"], preset="preview", resolution=resolution, framing="auto")
            images[obj.name] = render_views(settings, folder / obj.name).views["iso"].path
    finally:
        for obj, state in hidden.items():
            obj.hide_render = state
    return LodRenders(images=images)


def register(mcp: FastMCP) -> None:
    """Add asset_decimate and asset_render_lods to the worker's server."""

    @mcp.tool(timeout=600)
    async def asset_decimate(
        source: Annotated[str, Field(description="mesh object to copy")],
        target: Annotated[str, Field(description="name of the reduced copy, e.g. SM_Chair_LOD1")],
        max_triangles: Annotated[int, Field(ge=1)],
    ) -> DecimatedMesh:
        """Copy a mesh and collapse-decimate the copy to at most about max_triangles, keeping UVs and materials."""
        return decimate(source, check_id(target, "object name"), max_triangles)

    @mcp.tool(timeout=300)
    async def asset_render_lods(
        objects: Annotated[list[str], Field(min_length=1, max_length=16)],
        job: Annotated[str, Field(description="job id: PNGs go to <output>/<job>/renders/<object>/iso.png")],
        ctx: Context,
        resolution: Annotated[int, Field(ge=16, le=1024)] = 256,
    ) -> LodRenders:
        """Render each listed mesh alone (iso view, auto framing, Workbench) for the asset report."""
        folder = job_folder(worker_state(ctx).output_dir, job) / "renders"
        return render_each(objects, folder, resolution)

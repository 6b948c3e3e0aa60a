"""Stage 3 of asset finalization: UV unwrap and pack, and the measurements validation reads.

Coverage and overlap are measured by rasterising every UV triangle into a grid (cell centres
inside a triangle count as covered), because the question a texture artist asks is "which texels
are shared", not whether islands' outlines touch. Texel-density spread compares, per triangle,
UV area against surface area: a wide spread means some parts get blurry texels.
"""

from __future__ import annotations

import math
from typing import Annotated

import bpy
import numpy as np
from fastmcp import FastMCP
from pydantic import Field

from harness.asset_types import UVMethod, UVReport
from servers.blender_primary.asset_objects import mesh_object, select_only
from servers.blender_primary.errors import BadArgumentError

__all__ = ["unwrap", "uv_report", "register"]

GRID = 512


def _triangles(mesh: bpy.types.Mesh) -> tuple[np.ndarray, np.ndarray]:
    """(UV corners (T, 3, 2), world corners (T, 3, 3)) of the mesh's loop triangles."""
    mesh.calc_loop_triangles()
    loops = np.empty(len(mesh.loop_triangles) * 3, dtype=np.int64)
    mesh.loop_triangles.foreach_get("loops", loops)
    verts = np.empty(len(mesh.loop_triangles) * 3, dtype=np.int64)
    mesh.loop_triangles.foreach_get("vertices", verts)
    uv = np.empty(len(mesh.loops) * 2, dtype=np.float64)
    mesh.uv_layers.active.data.foreach_get("uv", uv)
    co = np.empty(len(mesh.vertices) * 3, dtype=np.float64)
    mesh.vertices.foreach_get("co", co)
    return uv.reshape(-1, 2)[loops].reshape(-1, 3, 2), co.reshape(-1, 3)[verts].reshape(-1, 3, 3)


def _coverage_counts(uv_tris: np.ndarray) -> np.ndarray:
    """How many triangles cover each cell centre of a GRID² raster of the 0..1 square.

    Triangles are tested in batches of equal bounding-box size (most are a few cells wide), so the
    work is numpy over every (triangle, candidate cell) pair rather than a Python loop per triangle."""
    counts = np.zeros(GRID * GRID, dtype=np.int32)
    pix = uv_tris * GRID - 0.5  # cell centres sit at integer coordinates
    lows = np.clip(np.floor(pix.min(axis=1)), 0, GRID - 1).astype(np.int64)
    sizes = np.clip(np.ceil(pix.max(axis=1)), 0, GRID - 1).astype(np.int64) - lows
    a, b, c = pix[:, 0], pix[:, 1], pix[:, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    keys = sizes[:, 0] * GRID + sizes[:, 1]
    for key in np.unique(keys[area != 0]):
        batch = np.flatnonzero((keys == key) & (area != 0))
        w, h = divmod(int(key), GRID)
        ox, oy = (m.ravel() for m in np.meshgrid(np.arange(w + 1), np.arange(h + 1)))
        xs, ys = lows[batch, :1] + ox, lows[batch, 1:] + oy  # (n, cells)
        inside = np.ones(xs.shape, dtype=bool)
        for p, q in ((b, c), (c, a), (a, b)):  # the point is on the same side of every edge as the triangle
            edge = (p[batch, :1] - xs) * (q[batch, 1:] - ys) - (p[batch, 1:] - ys) * (q[batch, :1] - xs)
            inside &= edge * area[batch, None] >= 0
        np.add.at(counts, (ys * GRID + xs)[inside], 1)
    return counts.reshape(GRID, GRID)


def uv_report(obj: bpy.types.Object) -> UVReport | None:
    """Coverage, overlap, bounds and texel-density spread of the active UV layer; None without one."""
    mesh = obj.data
    if not mesh.uv_layers or not len(mesh.polygons):
        return None
    uv_tris, world_tris = _triangles(mesh)
    counts = _coverage_counts(uv_tris)
    covered = np.count_nonzero(counts)
    uv_area = np.abs(np.cross(uv_tris[:, 1] - uv_tris[:, 0], uv_tris[:, 2] - uv_tris[:, 0])) / 2
    world_area = np.linalg.norm(np.cross(world_tris[:, 1] - world_tris[:, 0], world_tris[:, 2] - world_tris[:, 0]), axis=1) / 2
    real = (world_area > 1e-12) & (uv_area > 0)
    density = np.sqrt(uv_area[real] / world_area[real])
    spread = float(np.percentile(density, 95) / np.percentile(density, 5)) if density.size else math.inf
    flat = uv_tris.reshape(-1, 2)
    low, high = flat.min(axis=0), flat.max(axis=0)
    return UVReport(
        object=obj.name,
        coverage=covered / counts.size,
        overlap=float(np.count_nonzero(counts > 1) / covered) if covered else 0.0,
        inside_unit_square=bool((low >= -1e-6).all() and (high <= 1 + 1e-6).all()),
        uv_min=(float(low[0]), float(low[1])),
        uv_max=(float(high[0]), float(high[1])),
        texel_density_spread=spread,
    )


def unwrap(name: str, method: UVMethod, angle_limit_deg: float, margin: float) -> UVReport:
    """Unwrap the object's mesh into a fresh active UV layer and pack its islands with `margin` (0..1 units)."""
    obj = mesh_object(name)
    if not len(obj.data.polygons):
        raise BadArgumentError(f"{name!r} has no faces to unwrap")
    if not obj.data.uv_layers:
        obj.data.uv_layers.new(name="UVMap")
    select_only([obj], obj)
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        bpy.ops.mesh.select_all(action="SELECT")
        if method == "smart_project":
            bpy.ops.uv.smart_project(angle_limit=math.radians(angle_limit_deg), island_margin=margin)
        else:
            bpy.ops.uv.lightmap_pack(PREF_CONTEXT="ALL_FACES", PREF_MARGIN_DIV=max(margin * 10, 0.001))
        bpy.ops.uv.select_all(action="SELECT")
        # bounding-box packing: the convex and concave packers took 1-40 s on a plain cube here
        bpy.ops.uv.pack_islands(margin=margin, rotate=True, shape_method="AABB")
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
    report = uv_report(obj)
    assert report is not None
    return report


def register(mcp: FastMCP) -> None:
    """Add asset_uv to the worker's server."""

    @mcp.tool(timeout=300, output_schema=None)
    async def asset_uv(
        object: Annotated[str, Field(description="the mesh object to unwrap")],
        method: Annotated[UVMethod, Field(description="smart_project or lightmap_pack")] = "smart_project",
        angle_limit_deg: Annotated[float, Field(gt=0, le=89)] = 66.0,
        margin: Annotated[float, Field(ge=0, le=0.25, description="space between islands, in 0..1 UV units")] = 0.005,
    ) -> UVReport:
        """Unwrap the mesh and pack its islands; returns UV coverage, overlap, bounds and texel-density spread."""
        return unwrap(object, method, angle_limit_deg, margin)

"""Stage 2 of asset finalization: topology cleanup of one mesh, in a fixed order.

Order matters: merging by distance first joins the seams that importers split (STL has no shared
vertices), so loose parts and degenerate faces show up as such; holes are filled and normals made
consistent outward after that, and triangulation comes last so it never triangulates garbage.
Transforms are applied and the origin moved where the engine expects it (base centre: the asset
stands on its origin), so every later stage and every exporter sees identity transforms.
"""

from __future__ import annotations

from typing import Annotated

import bmesh
import bpy
import numpy as np
from fastmcp import FastMCP
from mathutils import Matrix, Vector
from pydantic import Field

from harness.asset_types import CleanedMesh, Origin
from servers.blender_primary.asset_objects import mesh_object, triangle_count, vertex_bounds

__all__ = ["cleanup", "register"]


def _non_manifold(bm: bmesh.types.BMesh) -> int:
    return sum(1 for e in bm.edges if not e.is_manifold)


def cleanup(name: str, merge_distance: float, fill_holes_sides: int, triangulate: bool, origin: Origin) -> CleanedMesh:
    """Clean the mesh object `name` in place; see the module docstring for the order."""
    obj = mesh_object(name)
    mesh = obj.data
    bpy.context.view_layer.update()  # matrix_world lags behind a location/scale just set
    mesh.transform(obj.matrix_world)
    obj.matrix_world = Matrix.Identity(4)
    before = len(mesh.vertices)
    bm = bmesh.new()
    try:
        bm.from_mesh(mesh)
        bmesh.ops.remove_doubles(bm, verts=bm.verts, dist=merge_distance)
        bmesh.ops.dissolve_degenerate(bm, edges=bm.edges, dist=merge_distance)
        bmesh.ops.delete(bm, geom=[e for e in bm.edges if not e.link_faces], context="EDGES")
        bmesh.ops.delete(bm, geom=[v for v in bm.verts if not v.link_faces], context="VERTS")
        if fill_holes_sides > 0:
            bmesh.ops.holes_fill(bm, edges=[e for e in bm.edges if e.is_boundary], sides=fill_holes_sides)
        bmesh.ops.recalc_face_normals(bm, faces=bm.faces)
        if triangulate:
            bmesh.ops.triangulate(bm, faces=[f for f in bm.faces if len(f.verts) > 3],
                                  quad_method="BEAUTY", ngon_method="BEAUTY")
        non_manifold = _non_manifold(bm)
        bm.to_mesh(mesh)
    finally:
        bm.free()
    if origin != "keep" and len(mesh.vertices):
        low, high = vertex_bounds(mesh)
        centre = (low + high) / 2
        pivot = np.array([centre[0], centre[1], low[2]]) if origin == "base_center" else centre
        mesh.transform(Matrix.Translation(-Vector(pivot)))
    mesh.update()
    low, high = vertex_bounds(mesh)
    return CleanedMesh(object=obj.name, triangles=triangle_count(mesh), removed_vertices=before - len(mesh.vertices),
                       non_manifold_edges=non_manifold, dimensions=tuple(float(v) for v in high - low))


def register(mcp: FastMCP) -> None:
    """Add asset_cleanup to the worker's server."""

    @mcp.tool(timeout=300)
    async def asset_cleanup(
        object: Annotated[str, Field(description="the mesh object to clean")],
        merge_distance: Annotated[float, Field(ge=0, le=1, description="merge vertices closer than this, metres")] = 1e-4,
        fill_holes_sides: Annotated[int, Field(ge=0, le=1000, description="fill boundary holes up to this many sides (0: never)")] = 8,
        triangulate: bool = True,
        origin: Annotated[Origin, Field(description="base_center, bounds_center or keep")] = "base_center",
    ) -> CleanedMesh:
        """Clean a mesh for export: merge by distance, dissolve degenerates, delete loose parts, fill small holes,
        fix normals, optionally triangulate."""
        return cleanup(object, merge_distance, fill_holes_sides, triangulate, origin)

"""The facts asset validation judges, measured on the meshes themselves: `asset_inspect`.

The verdict is the orchestrator's (it knows the profile); the worker only measures, the same way
for the LODs it just built and for the meshes a fresh worker re-imported from the exported file.
"""

from __future__ import annotations

from typing import Annotated

import bpy
import numpy as np
from fastmcp import FastMCP
from pydantic import Field

from harness.asset_types import Inspection, MeshFacts
from servers.blender_primary.asset_objects import mesh_object, triangle_count
from servers.blender_primary.asset_uv import uv_report
from servers.blender_primary.scene_facts import summarize

__all__ = ["inspect", "register"]


def _facts(obj: bpy.types.Object, depsgraph: bpy.types.Depsgraph) -> MeshFacts:
    mesh = obj.data
    sizes = np.empty(len(mesh.polygons), dtype=np.int64)
    mesh.polygons.foreach_get("loop_total", sizes)
    used = np.zeros(len(mesh.vertices), dtype=bool)
    face_verts = np.empty(len(mesh.loops), dtype=np.int64)
    mesh.loops.foreach_get("vertex_index", face_verts)
    used[face_verts] = True
    textures = {
        node.image.name: (int(node.image.size[0]), int(node.image.size[1]))
        for slot in obj.material_slots if slot.material and slot.material.node_tree
        for node in slot.material.node_tree.nodes if node.type == "TEX_IMAGE" and node.image is not None
    }
    return MeshFacts(
        summary=summarize(obj, depsgraph),
        triangles=triangle_count(mesh),
        ngons=int(np.count_nonzero(sizes > 4)),
        loose_vertices=int(np.count_nonzero(~used)),
        uv_layers=len(mesh.uv_layers),
        uv=uv_report(obj),
        textures=textures,
    )


def inspect(names: list[str] | None) -> Inspection:
    """Facts of the named meshes, or of every mesh in the scene."""
    objects = [mesh_object(n) for n in names] if names else [o for o in bpy.context.scene.objects if o.type == "MESH"]
    depsgraph = bpy.context.evaluated_depsgraph_get()
    return Inspection(meshes=[_facts(obj, depsgraph) for obj in objects])


def register(mcp: FastMCP) -> None:
    """Add asset_inspect to the worker's server."""

    @mcp.tool(timeout=300, output_schema=None, annotations={"readOnlyHint": True})
    async def asset_inspect(
        objects: Annotated[list[str] | None, Field(description="mesh objects to measure; omit for every mesh")] = None,
    ) -> Inspection:
        """Measure meshes for validation: triangles, n-gons, non-manifold edges, UVs, transforms, bounds,
        materials, texture sizes."""
        return inspect(objects)

"""The objects of an asset being finalized, as the asset_* tools find, count and select them.

The stages hand objects to each other by name (the pipeline names them), so one place resolves
a name to a mesh, counts triangles the way every budget is measured, and makes a set of objects
the operator context (selected, one active) that bpy.ops needs in a headless process.
"""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np

from servers.blender_primary.errors import UnsupportedObjectError
from servers.blender_primary.lookup import find_object
from servers.blender_primary.paths import check_id

__all__ = ["mesh_object", "triangle_count", "select_only", "job_folder", "vertex_bounds"]


def mesh_object(name: str) -> bpy.types.Object:
    """The mesh object called `name`, or [UNKNOWN_OBJECT] / [UNSUPPORTED_OBJECT]."""
    obj = find_object(name)
    if obj.type != "MESH":
        raise UnsupportedObjectError(f"{name!r} is a {obj.type.lower()}, not a mesh")
    return obj


def triangle_count(mesh: bpy.types.Mesh) -> int:
    """Triangles after triangulation: every budget counts these (an n-gon of k sides is k-2)."""
    sizes = np.empty(len(mesh.polygons), dtype=np.int64)
    mesh.polygons.foreach_get("loop_total", sizes)
    return int((sizes - 2).sum())


def select_only(objects: list[bpy.types.Object], active: bpy.types.Object) -> None:
    """Make `objects` the selection and `active` the active object, in object mode."""
    if bpy.context.object is not None and bpy.context.object.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    for obj in bpy.context.view_layer.objects:
        obj.select_set(obj in objects)
    bpy.context.view_layer.objects.active = active


def job_folder(output_dir: Path, job: str) -> Path:
    """`<output_dir>/<job>/`, the only folder a finalize job's stages write into."""
    folder = output_dir / check_id(job, "job id")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def vertex_bounds(mesh: bpy.types.Mesh) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) corner of the mesh's vertices in its own space."""
    co = np.empty(len(mesh.vertices) * 3, dtype=np.float64)
    mesh.vertices.foreach_get("co", co)
    co = co.reshape(-1, 3)
    return co.min(axis=0), co.max(axis=0)

"""Stage 1 of asset finalization: bring a source file in as mesh objects, in metres and Z up.

Each importer already converts its format's units and axes to Blender's (FBX and glTF carry
them; OBJ is read with its -Z forward / Y up convention; STL and PLY have none and are taken as
metres, Z up). What they do not do is fail loudly: an empty OBJ or a truncated STL imports as
nothing, so the tool checks the result and says which of empty / corrupt / no mesh it was.
Everything is baked to plain meshes in world space (modifiers, curves and text evaluated), so
later stages see geometry, not a rig of transforms. A .blend is appended with its scripts never
run, like baselines.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import bpy
from fastmcp import Context, FastMCP
from pydantic import Field

from harness.asset_types import SOURCE_SUFFIXES, ImportedAsset, source_file_problem
from servers.blender_primary import baselines
from servers.blender_primary.asset_objects import select_only, triangle_count
from servers.blender_primary.errors import AssetSourceError
from servers.blender_primary.paths import check_id
from servers.blender_primary.scene_facts import world_bounds
from servers.blender_primary.state import worker_state

__all__ = ["import_source", "register"]

MESH_CONVERTIBLE = {"MESH", "CURVE", "SURFACE", "META", "FONT"}


def _append_blend(path: Path) -> None:
    with bpy.data.libraries.load(str(path), link=False) as (source, target):
        target.objects = list(source.objects)
    for obj in target.objects:
        if obj is not None:
            bpy.context.scene.collection.objects.link(obj)


IMPORTERS: dict[str, Callable[[Path], object]] = {
    ".blend": _append_blend,
    ".obj": lambda p: bpy.ops.wm.obj_import(filepath=str(p), forward_axis="NEGATIVE_Z", up_axis="Y"),
    ".fbx": lambda p: bpy.ops.import_scene.fbx(filepath=str(p)),
    ".glb": lambda p: bpy.ops.import_scene.gltf(filepath=str(p)),
    ".gltf": lambda p: bpy.ops.import_scene.gltf(filepath=str(p)),
    ".stl": lambda p: bpy.ops.wm.stl_import(filepath=str(p)),
    ".ply": lambda p: bpy.ops.wm.ply_import(filepath=str(p)),
}
assert set(IMPORTERS) == set(SOURCE_SUFFIXES)


def _checked_source(path: str) -> Path:
    source = Path(path)
    if not source.is_absolute():
        raise AssetSourceError(f"{path!r} is not an absolute path")
    if problem := source_file_problem(source):
        raise AssetSourceError(problem)
    return source


def _bake_to_meshes() -> tuple[list[bpy.types.Object], list[str]]:
    """Replace every visible geometry object by a plain mesh in world space; returns (meshes, skipped names)."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    baked: list[tuple[str, bpy.types.Mesh]] = []
    skipped: list[str] = []
    for obj in list(bpy.context.scene.objects):
        if obj.type in MESH_CONVERTIBLE and not obj.hide_render:
            mesh = bpy.data.meshes.new_from_object(obj.evaluated_get(depsgraph), preserve_all_data_layers=True,
                                                   depsgraph=depsgraph)
            mesh.transform(obj.matrix_world)
            baked.append((obj.name, mesh))
        else:
            skipped.append(obj.name)
    for obj in list(bpy.context.scene.objects):
        bpy.data.objects.remove(obj)
    meshes = []
    for name, mesh in baked:
        obj = bpy.data.objects.new(name, mesh)
        bpy.context.scene.collection.objects.link(obj)
        meshes.append(obj)
    return meshes, skipped


def import_source(baseline: Path, path: str, join_as: str | None, objects: list[str] | None = None) -> ImportedAsset:
    """Reset to the empty scene, import `path`, bake to meshes, keep only `objects` (by name) when given, and
    (when `join_as` is given) join them into one."""
    source = _checked_source(path)
    baselines.load(baseline)
    try:
        IMPORTERS[source.suffix.lower()](source)
    except (RuntimeError, OSError, ValueError, KeyError) as exc:
        raise AssetSourceError(f"{source.name} could not be read (corrupt or not a {source.suffix} file): {exc}") from exc
    meshes, skipped = _bake_to_meshes()
    if objects is not None:
        missing = sorted(set(objects) - {obj.name for obj in meshes})
        if missing:
            raise AssetSourceError(f"{source.name} has no mesh object named {', '.join(map(repr, missing))} "
                                   f"(mesh objects: {', '.join(sorted(o.name for o in meshes)) or 'none'})")
        kept = [o for o in meshes if o.name in objects]
        for obj in [o for o in meshes if o.name not in objects]:
            skipped.append(obj.name)
            bpy.data.objects.remove(obj)
        meshes = kept
    meshes = [obj for obj in meshes if len(obj.data.polygons)]
    if not meshes:
        raise AssetSourceError(f"{source.name} has no mesh with faces (objects: {', '.join(skipped) or 'none'})")
    if join_as is not None:
        select_only(meshes, meshes[0])
        if len(meshes) > 1:
            bpy.ops.object.join()
        meshes = [bpy.context.view_layer.objects.active]
        meshes[0].name = meshes[0].data.name = join_as
    depsgraph = bpy.context.evaluated_depsgraph_get()
    corners = [world_bounds(obj, depsgraph) for obj in meshes]
    low = [min(c[0][i] for c in corners) for i in range(3)]
    high = [max(c[1][i] for c in corners) for i in range(3)]
    return ImportedAsset(
        objects=[obj.name for obj in meshes],
        triangles=sum(triangle_count(obj.data) for obj in meshes),
        dimensions=tuple(h - lo for lo, h in zip(low, high)),
        skipped=skipped,
    )


def register(mcp: FastMCP) -> None:
    """Add asset_import to the worker's server."""

    @mcp.tool(timeout=300)
    async def asset_import(
        path: Annotated[str, Field(description="absolute path of a .blend, .obj, .fbx, .glb, .gltf, .stl or .ply")],
        ctx: Context,
        join_as: Annotated[str | None, Field(description="join every mesh into one object of this name; omit to keep them apart")] = None,
        objects: Annotated[list[str] | None, Field(max_length=256, description="keep only the mesh objects of these names "
                                                                                "(leave out a ground plane); omit for all")] = None,
    ) -> ImportedAsset:
        """Replace the scene with the meshes of a source file (metres, Z up, modifiers applied, world space).

        Errors say whether the file was missing, empty, corrupt or held no mesh ([ASSET_SOURCE])."""
        if join_as is not None:
            check_id(join_as, "object name")
        state = worker_state(ctx)
        return import_source(baselines.ensure_empty(state), path, join_as, objects)

"""Stage 7 of asset finalization: engine-ready files of the LOD meshes.

FBX (Unity, Unreal) keeps the LODs in one file; with a group name they become children of an
empty of that name, the `Name` / `Name_LOD0..n` convention from which Unity builds a LOD Group
and Unreal imports LODs. glTF binary (Godot, web) embeds its textures. Each file is written under
a temporary name and renamed, so a file with the final name is always complete.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import bpy
from fastmcp import Context, FastMCP
from pydantic import Field

from harness.asset_types import ExportedFiles, FbxSettings, GltfSettings
from servers.blender_primary.asset_objects import job_folder, mesh_object, select_only
from servers.blender_primary.errors import ExportError
from servers.blender_primary.paths import check_id, resolve_inside
from servers.blender_primary.state import worker_state

__all__ = ["export_lods", "register"]


def _write_fbx(path: Path, fbx: FbxSettings, gltf: GltfSettings) -> None:
    bpy.ops.export_scene.fbx(filepath=str(path), use_selection=True, object_types={"MESH", "EMPTY"},
                             path_mode="COPY", embed_textures=True, add_leaf_bones=False, **fbx.model_dump())


def _write_glb(path: Path, fbx: FbxSettings, gltf: GltfSettings) -> None:
    bpy.ops.export_scene.gltf(filepath=str(path), export_format="GLB", use_selection=True, export_yup=True,
                              export_image_format=gltf.image_format, export_apply=True,
                              export_tangents=True)  # the normal map is baked in MikkTSpace tangents


WRITERS = {"fbx": _write_fbx, "glb": _write_glb}


def _write(path: Path, format: str, objects: list[bpy.types.Object], fbx: FbxSettings, gltf: GltfSettings) -> str:
    partial = path.with_name(f".partial-{path.name}")
    select_only(objects, objects[0])
    try:
        WRITERS[format](partial, fbx, gltf)
        if not partial.is_file() or partial.stat().st_size == 0:
            raise ExportError(f"the {format} exporter wrote nothing for {path.name}")
        os.replace(partial, path)
    except RuntimeError as exc:
        raise ExportError(f"the {format} exporter failed on {path.name}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return str(path)


def export_lods(folder: Path, stem: str, lods: list[str], format: Literal["fbx", "glb"], group: str | None,
                split: bool, fbx: FbxSettings, gltf: GltfSettings) -> ExportedFiles:
    """Write `lods` as `<stem>.<format>` (or one file per LOD when `split`), under `group` when named."""
    objects = [mesh_object(name) for name in lods]
    if group is not None:
        parent = bpy.data.objects.get(group) or bpy.data.objects.new(group, None)
        if parent.name not in bpy.context.scene.objects:
            bpy.context.scene.collection.objects.link(parent)
        for obj in objects:
            obj.parent = parent
        objects = [parent, *objects]
    if split:
        files = [_write(resolve_inside(folder, obj.name, f".{format}", "object name"), format, [obj], fbx, gltf)
                 for obj in objects if obj.type == "MESH"]
    else:
        files = [_write(resolve_inside(folder, stem, f".{format}", "file name"), format, objects, fbx, gltf)]
    return ExportedFiles(files=files)


def register(mcp: FastMCP) -> None:
    """Add asset_export to the worker's server."""

    @mcp.tool(timeout=600)
    async def asset_export(
        lods: Annotated[list[str], Field(min_length=1, max_length=16, description="LOD mesh objects, LOD0 first")],
        format: Annotated[Literal["fbx", "glb"], Field(description="fbx (Unity, Unreal) or glb (Godot, web)")],
        stem: Annotated[str, Field(description="file name without extension")],
        job: Annotated[str, Field(description="job id: files go to <output>/<job>/")],
        ctx: Context,
        group: Annotated[str | None, Field(description="parent the LODs to an empty of this name (LOD group)")] = None,
        split: Annotated[bool, Field(description="one file per LOD, named after it")] = False,
        fbx: FbxSettings | None = None,
        gltf: GltfSettings | None = None,
    ) -> ExportedFiles:
        """Export the LOD meshes (with their baked textures embedded) as engine-ready FBX or glTF binary."""
        folder = job_folder(worker_state(ctx).output_dir, job)
        return export_lods(folder, check_id(stem, "file name"), lods, format,
                           None if group is None else check_id(group, "group name"), split,
                           fbx or FbxSettings(), gltf or GltfSettings())

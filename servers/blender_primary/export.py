"""Exporting the scene to a file a client can take away: glb, fbx, obj or a .blend copy.

Files land only in the worker's output folder, under a plain name checked by paths.py, so a
hostile name (`../x`, `/abs`, a symlink pointing out) is refused before anything is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import bpy
from fastmcp import Context, FastMCP
from pydantic import BaseModel, Field

from servers.blender_primary.blend_files import write_blend
from servers.blender_primary.errors import BadFormatError, ExportError
from servers.blender_primary.paths import resolve_inside
from servers.blender_primary.state import worker_state

__all__ = ["FORMATS", "ExportResult", "export", "register"]


def _glb(path: Path) -> None:
    bpy.ops.export_scene.gltf(filepath=str(path), export_format="GLB")


def _fbx(path: Path) -> None:
    bpy.ops.export_scene.fbx(filepath=str(path))


def _obj(path: Path) -> None:
    bpy.ops.wm.obj_export(filepath=str(path))


FORMATS: dict[str, Callable[[Path], None]] = {"glb": _glb, "fbx": _fbx, "obj": _obj, "blend": write_blend}
COMPANIONS: dict[str, tuple[str, ...]] = {"obj": (".mtl",)}


class ExportResult(BaseModel):
    format: str
    path: str = Field(description="the exported file on the worker's disk")
    size_bytes: int
    companions: list[str] = Field(
        default_factory=list, description="extra files written beside it, e.g. the .mtl of an obj"
    )
    elapsed_ms: float


def export(output_dir: Path, format: str, name: str) -> ExportResult:
    """Write the scene as `<output_dir>/<name>.<format>`; refuses other formats and names that are not plain."""
    kind = format.strip().lower().removeprefix(".")
    if kind not in FORMATS:
        raise BadFormatError(f"format {format!r} is not supported; choose one of: {', '.join(FORMATS)}")
    path = resolve_inside(output_dir, name, f".{kind}", "export name")
    started = time.perf_counter()
    try:
        FORMATS[kind](path)
    except RuntimeError as e:
        raise ExportError(f"the {kind} exporter failed: {e}") from e
    elapsed_ms = (time.perf_counter() - started) * 1000
    if not path.is_file():
        raise ExportError(f"the {kind} exporter reported success but wrote no {path.name}")
    companions = [str(extra) for suffix in COMPANIONS.get(kind, ()) if (extra := path.with_suffix(suffix)).is_file()]
    return ExportResult(
        format=kind, path=str(path), size_bytes=path.stat().st_size, companions=companions, elapsed_ms=elapsed_ms
    )


def register(mcp: FastMCP) -> None:
    """Add export_scene to the worker's server."""

    @mcp.tool(timeout=120)
    async def export_scene(
        format: Annotated[str, Field(description="glb, fbx, obj or blend", json_schema_extra={"enum": list(FORMATS)})],
        name: Annotated[str, Field(description="file name without extension: 1-64 of A-Z a-z 0-9 _ -")],
        ctx: Context,
    ) -> ExportResult:
        """Export the scene to the worker's output folder as `<name>.<format>` (glb, fbx, obj or blend); returns
        its path and size."""
        return export(worker_state(ctx).output_dir, format, name)

"""Writing the scene as a .blend, atomically, and the `save_blend` tool (output folder only).

A file is written under a temporary name and renamed into place, so a reader (another worker
sharing the baselines folder, the gateway copying a checkpoint) never sees half a file.
"""

from __future__ import annotations

import os
from pathlib import Path

import bpy
from fastmcp import Context, FastMCP
from pydantic import BaseModel

from servers.blender_primary.errors import SaveError
from servers.blender_primary.paths import resolve_inside
from servers.blender_primary.state import worker_state

__all__ = ["BLEND_SUFFIX", "SavedFile", "write_blend", "register"]

BLEND_SUFFIX = ".blend"


class SavedFile(BaseModel):
    path: str
    bytes: int


def write_blend(path: Path) -> None:
    """Save the current scene to `path` (a copy: the session's own file path is unchanged)."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{BLEND_SUFFIX}")
    try:
        bpy.ops.wm.save_as_mainfile(filepath=str(tmp), copy=True, compress=False)
        os.replace(tmp, path)
    except RuntimeError as exc:
        raise SaveError(f"could not save {path.name}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def register(mcp: FastMCP) -> None:
    @mcp.tool
    async def save_blend(name: str, ctx: Context) -> SavedFile:
        """Save the scene as `<name>.blend` in this worker's output folder; returns its path."""
        path = resolve_inside(worker_state(ctx).output_dir, name, BLEND_SUFFIX, "file name")
        write_blend(path)
        return SavedFile(path=str(path), bytes=path.stat().st_size)

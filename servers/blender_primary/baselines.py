"""Named scene states a worker can return to in milliseconds: .blend files in the baselines folder.

Reset loads the file (`wm.open_mainfile`), never restarts Blender, so objects, transforms and
materials come back exactly as saved. Workers of one pool share the folder, so a baseline is
written to a temporary name and renamed into place: another worker never reads half a file.
`empty` is built in: Blender's factory-empty scene, written once.
"""

from __future__ import annotations

import time
from pathlib import Path

import bpy
from fastmcp import Context, FastMCP
from pydantic import BaseModel

from servers.blender_primary.blend_files import BLEND_SUFFIX, write_blend
from servers.blender_primary.errors import BaselineError, UnknownBaselineError
from servers.blender_primary.measure import note_baseline
from servers.blender_primary.paths import resolve_inside
from servers.blender_primary.state import WorkerState, worker_state

__all__ = ["BUILTIN_EMPTY", "BaselineInfo", "ensure_empty", "save", "load", "reset", "register"]

BUILTIN_EMPTY = "empty"


class BaselineInfo(BaseModel):
    baseline_id: str
    path: str
    elapsed_ms: float


def baseline_path(state: WorkerState, baseline_id: str) -> Path:
    return resolve_inside(state.baselines_dir, baseline_id, BLEND_SUFFIX, "baseline id")


def ensure_empty(state: WorkerState) -> Path:
    """The built-in empty baseline, written on first use (factory settings, no objects)."""
    path = baseline_path(state, BUILTIN_EMPTY)
    if not path.exists():
        bpy.ops.wm.read_factory_settings(use_empty=True)
        write_blend(path)
    return path


def save(state: WorkerState, baseline_id: str) -> Path:
    path = baseline_path(state, baseline_id)
    write_blend(path)
    return path


def load(path: Path) -> None:
    try:
        bpy.ops.wm.open_mainfile(filepath=str(path), load_ui=False, use_scripts=False)
    except RuntimeError as exc:
        raise BaselineError(f"could not load baseline {path.stem!r}: {exc}") from exc
    note_baseline()  # what the baseline holds is background to every measurement


def reset(state: WorkerState, baseline_id: str) -> Path:
    """The scene replaced by baseline `baseline_id` (an error listing the saved ones when there is none)."""
    path = ensure_empty(state) if baseline_id == BUILTIN_EMPTY else baseline_path(state, baseline_id)
    if not path.exists():
        known = ", ".join(list_ids(state)) or "none"
        raise UnknownBaselineError(f"no baseline {baseline_id!r}; saved baselines: {known}")
    load(path)
    return path


def register(mcp: FastMCP) -> None:
    @mcp.tool
    async def save_baseline(name: str, ctx: Context) -> BaselineInfo:
        """Save the scene as baseline `name` (shared by the pool's workers; `empty` is built in);
        reset_to_baseline(name) brings it back."""
        started = time.perf_counter()
        state = worker_state(ctx)
        if name == BUILTIN_EMPTY:
            raise BaselineError("`empty` is built in and cannot be overwritten; choose another name")
        path = save(state, name)
        return BaselineInfo(baseline_id=name, path=str(path), elapsed_ms=(time.perf_counter() - started) * 1000)

    @mcp.tool
    async def reset_to_baseline(baseline_id: str, ctx: Context) -> BaselineInfo:
        """Replace the whole scene with a saved baseline (`empty` = no objects). Takes milliseconds."""
        started = time.perf_counter()
        path = reset(worker_state(ctx), baseline_id)
        return BaselineInfo(baseline_id=baseline_id, path=str(path), elapsed_ms=(time.perf_counter() - started) * 1000)

    @mcp.tool(annotations={"readOnlyHint": True})
    async def list_baselines(ctx: Context) -> list[str]:
        """Ids of the saved baselines, `empty` included."""
        return list_ids(worker_state(ctx))


def list_ids(state: WorkerState) -> list[str]:
    return sorted({BUILTIN_EMPTY} | {p.stem for p in state.baselines_dir.glob(f"*{BLEND_SUFFIX}") if not p.name.startswith(".")})

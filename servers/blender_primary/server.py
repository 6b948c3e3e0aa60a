"""The MCP server living inside one Blender process.

`create_server(...)` builds the FastMCP app. Its lifespan prepares a `WorkerState` (the
worker's folders), installs the exit guard, makes sure the built-in `empty` baseline exists and
loads it, so every worker starts from the same scene.

Adding tools: a module listed in `TOOL_MODULES` exposes `register(mcp: FastMCP) -> None` and
declares its tools inside it. Rules every tool module follows:

- Tools that touch bpy are `async def` and do their bpy work synchronously, without awaiting in
  between. fastmcp runs *sync* tools in a worker thread, but bpy is main-thread only; async
  tools run on the event loop, which is the process main thread (stdio, HTTP and the in-memory
  client alike). Not awaiting mid-work also means two calls never interleave on the scene.
- The worker's folders come from the injected Context::

      from fastmcp import Context
      from servers.blender_primary.state import worker_state

      async def my_tool(name: str, ctx: Context) -> MyResult:
          state = worker_state(ctx)      # WorkerState: workdir, baselines_dir, output_dir, renders_dir

- Names from clients go through `paths.check_id` / `paths.resolve_inside`; failures raise a
  `errors.WorkerToolError` subclass, whose message starts with a stable `[TAG]`.
- The docstring is what a host's model reads on every turn: one or two sentences on what the tool
  does and returns. A tool returning a nested report declares `output_schema=None`: its structured
  content is still sent, but its schema (inlined by fastmcp) would cost thousands of tokens per list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import bpy
from fastmcp import FastMCP

from harness.validator import Policy
from servers.blender_primary import (
    asset_bake,
    asset_cleanup,
    asset_export,
    asset_import,
    asset_inspect,
    asset_lods,
    asset_uv,
    baselines,
    blend_files,
    execution,
    export,
    geonodes,
    probe,
    render,
    safety,
    scene_facts,
)
from servers.blender_primary.exit_guard import install_exit_guard
from servers.blender_primary.memory_guard import MemoryGuard
from servers.blender_primary.snippet_tools import SnippetTools
from servers.blender_primary.state import WorkerState

__all__ = ["TOOL_MODULES", "create_server"]

TOOL_MODULES = (execution, scene_facts, baselines, render, probe, blend_files, safety, geonodes, export,
                asset_import, asset_cleanup, asset_uv, asset_bake, asset_lods, asset_export, asset_inspect)

INSTRUCTIONS = (
    "One headless Blender process. Run bpy code with execute_code, inspect the scene with "
    "get_scene_info/get_object_info, render a deterministic camera pack with render_pack, and "
    "save or restore named states with save_baseline/reset_to_baseline."
)


def create_server(
    workdir: Path,
    baselines_dir: Path | None = None,
    output_dir: Path | None = None,
    code_policy: Policy = Policy.LOG,
) -> FastMCP:
    @asynccontextmanager
    async def lifespan(server: FastMCP) -> AsyncIterator[dict[str, WorkerState]]:
        tools = await SnippetTools.from_server(server)
        state = WorkerState.prepare(workdir, baselines_dir, output_dir, code_policy, tools, guard)
        install_exit_guard()
        baselines.load(baselines.ensure_empty(state))
        guard.install()  # after bpy has mapped what it maps at start (see memory_guard)
        yield {"state": state}

    guard = MemoryGuard.from_env(Path(workdir))

    mcp = FastMCP("colossus-blender", instructions=INSTRUCTIONS, lifespan=lifespan, mask_error_details=True)

    @mcp.tool(annotations={"readOnlyHint": True})
    async def ping() -> dict[str, str]:
        """Check the worker is alive; returns the Blender version and what holds its memory limit."""
        return {"status": "ok", "blender_version": bpy.app.version_string, "memory_guard": guard.mechanism}

    for module in TOOL_MODULES:
        module.register(mcp)
    return mcp

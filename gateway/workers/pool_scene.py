"""The coordinator's view of the pool: `PoolScene` (orchestrator.scene.Scene) over a leased worker.

Every method is one `Pool.call`, so the coordinator's scenes get the same restore points,
timeouts and crash recovery as the host's. Renders reach the caller's folder as hard links to a
local worker's PNGs, or from the image bytes of the result for a remote worker; a saved .blend is
copied from the worker's folder, which only a local worker has. A Ray worker counts as local here:
its files come back by value into its folder on the gateway (gateway.workers.carried_files).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types

from gateway.workers.blend_baselines import import_blend
from gateway.errors import WorkerError, WorkerToolError
from gateway.workers.pool import EMPTY, Pool
from gateway.relay_client import error_text
from harness.measure_files import write_side_files
from harness.measure_types import MeasuredRun, MeasuredRuns
from harness.report import ExecutionReport
from harness.scene_types import SNIPPET_TOOLS, ExecutedRender, RenderPackResult, RenderSettings, SceneInfo
from orchestrator.errors import SceneFault

__all__ = ["PoolScene", "PoolSceneProvider", "structured"]


def structured(result: mcp_types.CallToolResult) -> dict[str, Any]:
    """The result's structured content; a worker tool error becomes WorkerToolError (its [TAG] kept)."""
    if result.is_error:
        raise WorkerToolError(error_text(result))
    if result.structured_content is not None:
        data = result.structured_content
        return data["result"] if set(data) == {"result"} else data
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            return json.loads(block.text)
    return {}


class PoolScene:
    """One scene of the pool, addressed by its scene_id."""

    def __init__(self, pool: Pool, scene_id: str) -> None:
        self.pool = pool
        self.scene_id = scene_id

    async def call(self, tool: str, arguments: dict[str, Any], timeout_s: float | None = None) -> mcp_types.CallToolResult:
        return await self.pool.call(self.scene_id, tool, arguments, timeout_s)

    async def execute(self, code: str, timeout_s: float = 60.0) -> ExecutionReport:
        result = await self.call("execute_code", {"code": code, "timeout_s": timeout_s})
        report = ExecutionReport.model_validate(structured(result))
        report.warnings = [*self.pool.get(self.scene_id).unreported(), *report.warnings]
        return report

    async def info(self) -> SceneInfo:
        return SceneInfo.model_validate(structured(await self.call("get_scene_info", {})))

    async def reset(self, baseline_id: str) -> None:
        try:
            structured(await self.call("reset_to_baseline", {"baseline_id": baseline_id}))
        except WorkerError:  # the pool moved the scene to a live worker before raising; a reset can run again
            structured(await self.call("reset_to_baseline", {"baseline_id": baseline_id}))

    async def save_baseline(self, name: str) -> None:
        structured(await self.call("save_baseline", {"name": name}))

    async def save_blend(self, dest: Path) -> Path:
        name = re.sub(r"[^A-Za-z0-9_-]", "_", f"{self.scene_id}-{dest.stem}")[:64]
        data = structured(await self.call("save_blend", {"name": name}))
        source = Path(str(data.get("path")))
        dest.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, source, dest)
        return dest

    async def render(self, settings: RenderSettings, with_scene_info: bool = False) -> tuple[RenderPackResult, list[mcp_types.ContentBlock]]:
        """Render on the worker (and report the scene's facts in the same call when asked); paths are on the worker's disk."""
        result = await self.call("render_pack", {**settings.model_dump(mode="json"), "with_scene_info": with_scene_info})
        pack = self._rendered(RenderPackResult.model_validate(structured(result)))
        return pack, list(result.content)

    async def execute_render(self, code: str, settings: RenderSettings, timeout_s: float = 60.0,
                             with_scene_info: bool = False, images: bool = True,
                             ) -> tuple[ExecutedRender, list[mcp_types.ContentBlock]]:
        """Run the code and, if it succeeded, render: one worker call. Paths are on the worker's disk."""
        result = await self.call("execute_and_render", {"code": code, "timeout_s": timeout_s, "images": images,
                                                        "with_scene_info": with_scene_info, **settings.model_dump(mode="json")})
        done = ExecutedRender.model_validate(structured(result))
        done.report.warnings = [*self.pool.get(self.scene_id).unreported(), *done.report.warnings]
        if done.render is not None:
            done.render = self._rendered(done.render)
        return done, list(result.content)

    async def execute_and_render(self, code: str, settings: RenderSettings, dest_dir: Path,
                                 timeout_s: float = 60.0) -> ExecutedRender:
        # a local worker's PNGs are linked from its disk; a remote one's come as image bytes
        local = self.pool.get(self.scene_id).worker.spec.local
        done, content = await self.execute_render(code, settings, timeout_s, with_scene_info=True, images=not local)
        if done.render is not None:
            try:
                done.render = await _save_images(done.render, content, dest_dir, local)
            except (OSError, WorkerToolError) as e:  # the code ran and rendered: delivering the pack is on us
                raise SceneFault(f"the renders could not be written under {dest_dir}: {e}") from e
        return done

    async def measure_programs(self, codes: list[str], settings: RenderSettings, baseline_id: str,
                               timeout_s: float = 60.0) -> list[MeasuredRun]:
        result = await self.call("measure_programs", {"codes": codes, "baseline_id": baseline_id, "timeout_s": timeout_s,
                                                      **settings.model_dump(mode="json")})
        return MeasuredRuns.model_validate(structured(result)).runs

    def tool_specs(self) -> list[dict[str, Any]]:
        """The worker's snippet tools as its MCP listing describes them (the schemas a model is given)."""
        return [{"name": t.name, "description": t.description or "", "parameters": t.input_schema}
                for t in self.pool.get(self.scene_id).worker.tools if t.name in SNIPPET_TOOLS]

    def _rendered(self, pack: RenderPackResult) -> RenderPackResult:
        """The scene's latest renders, for verify and the renders:// resource."""
        self.pool.get(self.scene_id).renders = {view: Path(v.path) for view, v in pack.views.items()}
        return pack


async def _save_images(pack: RenderPackResult, content: list[mcp_types.ContentBlock], dest_dir: Path,
                       local: bool) -> RenderPackResult:
    """The pack with its PNGs under dest_dir (in one trip to a thread): linked or copied from a
    local worker's disk, else decoded from the result's image bytes."""
    targets = {view: dest_dir / f"{view}.png" for view in pack.views}
    if local:
        files: dict[Path, Path | str] = {targets[view]: Path(v.path) for view, v in pack.views.items()}
    else:
        images = [block for block in content if isinstance(block, mcp_types.ImageContent)]
        if len(images) != len(pack.views):
            raise WorkerToolError(f"[RENDER_ERROR] the worker returned {len(images)} images for {len(pack.views)} views")
        files = {targets[view]: image.data for view, image in zip(pack.views, images)}
    await asyncio.to_thread(_write_images, dest_dir, files)
    await asyncio.to_thread(write_side_files, pack.measure, dest_dir)
    return pack.model_copy(update={"views": {view: v.model_copy(update={"path": str(targets[view])})
                                             for view, v in pack.views.items()}})


def _write_images(dest_dir: Path, files: dict[Path, Path | str]) -> None:
    dest_dir.mkdir(parents=True, exist_ok=True)
    for target, source in files.items():
        if isinstance(source, str):
            target.write_bytes(base64.b64decode(source))
            continue
        target.unlink(missing_ok=True)  # a resumed run renders an iteration the crash cut short again
        try:
            os.link(source, target)  # the worker never rewrites a pack: sharing the file is safe
        except OSError:  # another filesystem
            shutil.copyfile(source, target)


class PoolSceneProvider:
    """orchestrator.scene.SceneProvider over the pool: a lease per `async with`, released on exit."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def _lease(self, baseline_id: str) -> AsyncIterator[PoolScene]:
        # the coordinator resets to the baseline and replays its program every iteration, and keeps
        # its own checkpoints: a .blend per execute would only cost time
        lease = await self.pool.lease(baseline_id, checkpoint_executes=False)
        try:
            yield PoolScene(self.pool, lease.scene_id)
        finally:
            await asyncio.shield(self._release(lease.scene_id))

    async def _release(self, scene_id: str) -> None:
        try:
            await self.pool.release(scene_id)
        except Exception:  # noqa: BLE001 - already released or expired: nothing left to return
            pass

    def lease(self, baseline_id: str = EMPTY):  # -> AsyncContextManager[PoolScene]
        return self._lease(baseline_id)

    @property
    def size(self) -> int:
        return self.pool.size

    async def import_baseline(self, blend: Path) -> str:
        """A task's .blend as a baseline id the leases can use (local workers only: see gateway.workers.blend_baselines)."""
        return await import_blend(self.pool, blend)

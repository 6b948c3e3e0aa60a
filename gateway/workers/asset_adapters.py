"""`AssetWorker` (orchestrator.assets.pipeline) over the two ways the gateway reaches Blender.

`ClientWorker` wraps an open fastmcp client of a worker the caller launched (the CLI's own stdio
workers); `SceneWorker` wraps a leased pool scene, so finalize calls get the pool's restore points
and crash recovery like every other call. Both return structured content and turn a worker's tool
error into WorkerToolError with its [TAG] kept (gateway.workers.pool_scene.structured). `leased_pair`
leases the two scenes a finalize job runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastmcp import Client

from gateway.workers.leases import EMPTY
from gateway.workers.pool import Pool
from gateway.workers.pool_scene import PoolScene, structured

__all__ = ["ClientWorker", "SceneWorker", "leased_pair"]


class ClientWorker:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def call(self, tool: str, arguments: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        return structured(await self.client.call_tool(tool, arguments, timeout=timeout_s, raise_on_error=False))


class SceneWorker:
    def __init__(self, scene: PoolScene) -> None:
        self.scene = scene

    async def call(self, tool: str, arguments: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        try:
            return structured(await self.scene.call(tool, arguments, timeout_s))
        except asyncio.CancelledError:  # a cancelled job: Blender would go on with the call (a bake takes minutes),
            with contextlib.suppress(Exception):  # so its worker is stopped; the pool restarts it at release
                await asyncio.shield(self.scene.pool.get(self.scene.scene_id).worker.stop())
            raise


@contextlib.asynccontextmanager
async def leased_pair(pool: Pool) -> AsyncIterator[tuple[SceneWorker, SceneWorker]]:
    """Two leased scenes, released afterwards; one (reset by the re-import) when no second worker is free,
    so a job never waits on, or starves, the host's own scenes."""
    scene_ids: list[str] = []
    try:
        scene_ids.append((await pool.lease(EMPTY, checkpoint_executes=False)).scene_id)
        if pool.status().free > 0:
            scene_ids.append((await pool.lease(EMPTY, checkpoint_executes=False)).scene_id)
        workers = [SceneWorker(PoolScene(pool, scene_id)) for scene_id in scene_ids]
        yield workers[0], workers[-1]
    finally:
        for scene_id in scene_ids:
            with contextlib.suppress(Exception):
                await asyncio.shield(pool.release(scene_id))

"""`AssetWorker` (orchestrator.assets.pipeline) over the two ways the gateway reaches Blender.

`ClientWorker` wraps an open fastmcp client of a worker the caller launched (the CLI's own stdio
workers); `SceneWorker` wraps a leased pool scene, so finalize calls get the pool's restore points
and crash recovery like every other call. Both return structured content and turn a worker's tool
error into WorkerToolError with its [TAG] kept (gateway.workers.pool_scene.structured).
"""

from __future__ import annotations

from typing import Any

from fastmcp import Client

from gateway.workers.pool_scene import PoolScene, structured

__all__ = ["ClientWorker", "SceneWorker"]


class ClientWorker:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def call(self, tool: str, arguments: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        return structured(await self.client.call_tool(tool, arguments, timeout=timeout_s, raise_on_error=False))


class SceneWorker:
    def __init__(self, scene: PoolScene) -> None:
        self.scene = scene

    async def call(self, tool: str, arguments: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        return structured(await self.scene.call(tool, arguments, timeout_s))

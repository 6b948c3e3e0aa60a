"""The worker's own tools on the gateway as `blender_<tool>(scene_id, ...)`.

Their schemas are the worker's, plus a required `scene_id`, and each is tagged with its toolset
(`assets` for asset_*, `geonodes` for gn_*, else `blender`); a call goes through `Pool.call`
(restore points, timeouts, recovery) to the worker leased to that scene, and the worker's result
(images included) is passed back unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import mcp_types
from fastmcp import FastMCP
from fastmcp.server.context import Context
from fastmcp.server.providers.base import Provider
from fastmcp.tools.base import Tool, ToolResult

from gateway.errors import GatewayError, to_tool_error
from gateway.mesh import tool_name
from gateway.services import GatewayServices
from gateway.tools.toolsets import worker_toolset
from gateway.workers.pool import Pool

__all__ = ["SceneTool", "BlenderToolProvider", "register"]

NAMESPACE = "blender"
SCENE_ID_SCHEMA = {"type": "string", "description": "scene handle from reset_to_baseline"}


class SceneTool(Tool):
    """One worker tool, routed by scene_id."""

    backend_name: str
    pool: Any = None

    async def run(self, arguments: dict[str, Any], context: Context | None = None) -> ToolResult:
        args = dict(arguments)
        scene_id = str(args.pop("scene_id", ""))
        try:
            result = await self.pool.call(scene_id, self.backend_name, args)
        except GatewayError as e:
            raise to_tool_error(e) from e
        return ToolResult.from_mcp_result(result)


def _with_scene_id(schema: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(schema) if schema else {"type": "object"}
    schema.setdefault("type", "object")
    schema["properties"] = {"scene_id": SCENE_ID_SCHEMA, **schema.get("properties", {})}
    schema["required"] = ["scene_id", *[r for r in schema.get("required", []) if r != "scene_id"]]
    return schema


class BlenderToolProvider(Provider):
    """Lists the worker tools as seen on the first connected worker; none until one is up."""

    def __init__(self, pool: Pool) -> None:
        super().__init__()
        self.pool = pool
        self._cache: tuple[int, list[Tool]] | None = None

    def _listing(self) -> list[mcp_types.Tool]:
        for worker in self.pool.workers:
            if worker.tools:
                return worker.tools
        return []

    async def _list_tools(self) -> Sequence[Tool]:
        if not self._listing() and self.pool.workers:  # at startup: wait (bounded) for the first worker
            await self.pool.wait_ready(self.pool.config.startup_timeout_s)
        listing = self._listing()
        if self._cache is not None and self._cache[0] == id(listing):
            return self._cache[1]
        tools: list[Tool] = [
            SceneTool(
                name=tool_name(NAMESPACE, t.name),
                description=t.description,
                parameters=_with_scene_id(t.input_schema),
                output_schema=t.output_schema,
                annotations=t.annotations,
                tags={worker_toolset(t.name)},
                backend_name=t.name,
                pool=self.pool,
            )
            for t in listing
        ]
        self._cache = (id(listing), tools)
        return tools


def register(app: FastMCP, services: GatewayServices) -> None:
    app.add_provider(BlenderToolProvider(services.pool))

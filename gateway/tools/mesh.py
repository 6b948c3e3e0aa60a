"""mesh_status, and the upstream servers' own tools mounted under their namespaces: `vision_*` and
one per configured `mcpServers` entry (gateway.mesh runs the connections)."""

from __future__ import annotations

from fastmcp import FastMCP
from pydantic import BaseModel, Field

from gateway.errors import GatewayError
from gateway.mesh import UpstreamProvider, UpstreamStatus
from gateway.services import GatewayServices
from gateway.tools import HIGH_LEVEL_TOOLS
from gateway.tools.toolsets import CORE
from gateway.workers.leases import PoolStatus

__all__ = ["register", "MeshStatus"]


class MeshStatus(BaseModel):
    pool: PoolStatus
    upstreams: list[UpstreamStatus]
    coordinator: str = Field(description="'available' or why not")


def register(app: FastMCP, services: GatewayServices) -> None:
    for upstream in services.upstreams:
        app.add_provider(UpstreamProvider(upstream, lambda: set(HIGH_LEVEL_TOOLS)))

    @app.tool(tags={CORE}, annotations={"readOnlyHint": True}, output_schema=None)
    async def mesh_status() -> MeshStatus:
        """State of the Blender pool, the vision server and your configured MCP servers (available or why not)."""
        try:
            services.runs()
            coordinator = "available"
        except GatewayError as e:
            coordinator = str(e)
        return MeshStatus(pool=services.pool.status(), upstreams=[u.status() for u in services.upstreams],
                          coordinator=coordinator)

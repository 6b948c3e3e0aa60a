"""The gateway: one MCP server hosts talk to (see the tool table in DESIGN.md).

`create_gateway` only wires: the services (pool, upstreams, vision, runs, assets) started and
stopped by the lifespan, then each toolset module of gateway/tools/ registering its tools on the
app with `register(app, services)`, then the dashboard. The tools live in those modules; how our
errors reach a host is gateway.errors.TOOL_ERRORS; which tools a session sees, gateway.tools.toolsets.
No call waits longer than ~45 s: longer jobs return a handle (gateway.handles), or run as protocol
tasks for a client that declares the extension (gateway.tasks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastmcp import FastMCP

from gateway.config import GatewayConfig
from gateway.dashboard.app_tools import register_dashboard_app
from gateway.dashboard.http_routes import register_dashboard_routes
from gateway.services import GatewayServices
from gateway.tasks import add_tasks
from gateway.tools import HIGH_LEVEL_TOOLS, assets, blender, mesh, runs, scene, toolsets

__all__ = ["create_gateway", "HIGH_LEVEL_TOOLS", "TOOLSETS"]

TOOLSETS = (blender, mesh, scene, runs, assets, toolsets)
"""The toolset modules, registered in this order (toolsets: which of their tools a session sees)."""

INSTRUCTIONS = (
    "Colossus drives headless Blender. Get a scene with reset_to_baseline (returns scene_id), run bpy "
    "code with execute_code, look with render_pack, check with verify, or do all three with run_attempt; "
    "release_scene when done. start_run runs the whole build-render-verify loop in the background; poll "
    "get_run. More tools (runs, assets, blender_* scene tools, geonodes, vision_*) come with enable_toolset."
)


def create_gateway(config: GatewayConfig | None = None) -> FastMCP:
    services = GatewayServices(config or GatewayConfig())

    @asynccontextmanager
    async def lifespan(_app: FastMCP) -> AsyncIterator[dict[str, Any]]:
        await services.start()
        try:
            yield {"services": services}
        finally:
            await services.stop()

    app = FastMCP("colossus", instructions=INSTRUCTIONS, lifespan=lifespan, mask_error_details=True)
    app.services = services  # type: ignore[attr-defined]  # for the serve command's exit handlers and tests
    add_tasks(app)
    for toolset in TOOLSETS:
        toolset.register(app, services)
    register_dashboard_app(app, services)
    register_dashboard_routes(app, services)
    return app

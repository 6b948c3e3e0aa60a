"""The dashboard as an MCP App (SEP-1865, extension io.modelcontextprotocol/ui), with fastmcp's apps support.

`start_run` and `get_run` carry RUN_APP (`_meta.ui.resourceUri` = ui://colossus/run); a host with the
extension renders that resource beside the conversation, and the page calls get_run (wait_s for
live updates), get_iteration and the control tools through the host's bridge (turning the `runs`
toolset on for its session first, since those are not in `core`). Hosts without the
extension ignore the metadata and see the tools as before. The page needs nothing from the
network (images come as data URLs), so its CSP metadata names no domain at all.
"""

from __future__ import annotations

import json
from typing import Annotated

import mcp_types
from fastmcp import FastMCP
from fastmcp.apps import AppConfig, ResourceCSP
from fastmcp.tools.base import ToolResult
from fastmcp.utilities.types import Image
from pydantic import Field

from gateway.dashboard.iteration import data_url, landed_iteration_detail
from gateway.dashboard.page import RUN_APP_URI, page_html
from gateway.errors import tool_errors
from gateway.handles import RunId
from gateway.services import GatewayServices
from gateway.tools.toolsets import RUNS
from orchestrator.artifacts import RunFolder

__all__ = ["register_dashboard_app"]

RESOURCE_APP = AppConfig(csp=ResourceCSP(connect_domains=[], resource_domains=[]), prefers_border=True)


def register_dashboard_app(app: FastMCP, services: GatewayServices) -> None:
    @app.resource(RUN_APP_URI, name="run dashboard", app=RESOURCE_APP)
    def run_dashboard() -> str:
        """The live run dashboard: attempts, score curves, renders against references, code, model log, controls."""
        return page_html()

    @app.tool(tags={RUNS}, annotations={"readOnlyHint": True})
    @tool_errors
    async def get_iteration(
        run_id: RunId,
        attempt: Annotated[int, Field(ge=0, le=1000)],
        iteration: Annotated[int, Field(ge=0, le=10_000)],
    ) -> ToolResult:
        """One iteration of a run: its code, score per view, sentinel findings, directional feedback and
        residuals, critique, model calls with spend, and its renders beside the references."""
        detail = await landed_iteration_detail(services.config.runs_dir, run_id, attempt, iteration, data_url)
        renders = RunFolder.open(services.config.runs_dir, run_id).renders_dir(attempt, iteration)
        text = json.dumps(detail.model_dump(mode="json", exclude={"renders", "references"}))
        images = [Image(path=p).to_image_content() for p in sorted(renders.glob("*.png")) if "." not in p.stem]
        return ToolResult(content=[mcp_types.TextContent(type="text", text=text), *images],
                          structured_content=detail.model_dump(mode="json"))

"""Toolsets: which tools a host's model is shown, filtered by fastmcp's own visibility over tags.

Every tool carries one tag, its toolset. `core` (the default) holds the mission tools and what
driving them needs; `runs`, `assets`, `blender`, `geonodes` and `vision` hold the rest, and each
configured mcpServers entry is a toolset named by its prefix. At start the server disables every
toolset not chosen (`colossus serve --toolsets a,b`, `[gateway] toolsets`, `all` for every one);
`enable_toolset(name)` turns one on for the calling session only, and fastmcp tells that client
with notifications/tools/list_changed. A host that ignores the notification still gets any toolset
through the flag. A disabled tool is neither listed nor callable.

Per-session visibility needs something that identifies the client from one request to the next:
stdio, a handshake-era HTTP session, or an authenticated 2026-07-28 HTTP client. An anonymous
2026-07-28 HTTP client chooses its toolsets at start instead (enable_toolset tells it so).
The dashboard's MCP App page calls get_iteration and the run controls through the host, so it
turns `runs` on when it connects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from fastmcp import FastMCP
from fastmcp.server.context import Context
from fastmcp.server.providers.base import Provider
from fastmcp.server.transforms.visibility import get_visibility_rules
from fastmcp.tools.base import Tool
from fastmcp.utilities.json_schema import dereference_refs
from pydantic import Field

from gateway.errors import BadRequest, ConfigError, tool_errors
from gateway.services import GatewayServices
from harness.tool_tokens import count_tokens, visible_part

__all__ = ["CORE", "RUNS", "ASSETS", "BLENDER", "GEONODES", "VISION", "ALL", "STATIC_TOOLSETS",
           "worker_toolset", "toolset_names", "chosen_toolsets", "register"]

CORE, RUNS, ASSETS, BLENDER, GEONODES, VISION, ALL = "core", "runs", "assets", "blender", "geonodes", "vision", "all"
STATIC_TOOLSETS = {
    CORE: "the mission: start_run/get_run, or drive a scene (reset_to_baseline, execute_code, render_pack, verify, "
          "run_attempt, release_scene)",
    RUNS: "manage runs: list, cancel, resume, fork, one iteration's files",
    ASSETS: "finalize a scene or run into an engine-ready asset, and the asset stages one by one",
    BLENDER: "a scene's own Blender tools: scene facts, baselines, renders, transforms, export",
    GEONODES: "build and edit geometry-node trees",
    VISION: "the vision server: sentinel, metrics, critique, perceptual hash",
}


def worker_toolset(name: str) -> str:
    """The toolset of a Blender worker tool, by its name on the worker."""
    return ASSETS if name.startswith("asset_") else GEONODES if name.startswith("gn_") else BLENDER


def toolset_names(services: GatewayServices) -> list[str]:
    """The built-in toolsets, then one per configured mcpServers entry (its prefix)."""
    return [*STATIC_TOOLSETS, *(u.namespace for u in services.upstreams if u is not services.vision_upstream)]


def chosen_toolsets(requested: Iterable[str], names: Sequence[str]) -> set[str]:
    """The toolsets to offer at start; an unknown name is a ConfigError naming the valid ones."""
    requested = list(requested)
    if unknown := [n for n in requested if n != ALL and n not in names]:
        raise ConfigError(f"unknown toolset {', '.join(map(repr, unknown))}; valid: {', '.join([*names, ALL])}")
    return set(names) if ALL in requested else set(requested)


def _entry(tool: Tool) -> dict[str, Any]:
    entry = tool.to_mcp_tool().model_dump(mode="json", by_alias=True, exclude_none=True)
    if "$defs" in entry["inputSchema"]:  # as the host receives it (fastmcp inlines references)
        entry["inputSchema"] = dereference_refs(entry["inputSchema"])
    return entry


def register(app: FastMCP, services: GatewayServices) -> None:
    names = toolset_names(services)
    chosen = chosen_toolsets(services.config.gateway.toolsets, names)
    if off := set(names) - chosen:
        app.disable(tags=off, components={"tool"})

    async def is_on(name: str, ctx: Context) -> bool:
        rules = await get_visibility_rules(ctx)
        return name in chosen or any(r["enabled"] and r.get("tags") == [name] for r in rules)

    async def listing(ctx: Context) -> str:
        tools = await Provider.list_tools(app)  # disabled ones too
        lines = []
        for name in names:
            members = [t for t in tools if name in t.tags]
            cost = count_tokens([visible_part(_entry(t)) for t in members]) if members else 0
            state = "on" if await is_on(name, ctx) else "off"
            about = STATIC_TOOLSETS.get(name, "your MCP server of that name")
            lines.append(f"{name} ({state}, {len(members)} tools, {cost:,} tokens): {about}")
        return "\n".join(lines)

    @app.tool(tags={CORE}, annotations={"idempotentHint": True})
    @tool_errors
    async def enable_toolset(
        ctx: Context,
        name: Annotated[str | None, Field(description="toolset to turn on; omit to list them")] = None,
    ) -> str:
        """Turn on a toolset's tools for this session (the host is told the tool list changed); without a name,
        list the toolsets with their tools' token cost."""
        if name is None:
            return await listing(ctx)
        if name not in names:
            raise BadRequest(f"unknown toolset {name!r}; valid: {', '.join(names)}")
        if await is_on(name, ctx):
            return f"toolset {name!r} is already on; nothing changed"
        try:
            await ctx.enable_components(tags={name}, components={"tool"})
        except RuntimeError as e:  # an anonymous 2026-07-28 HTTP client: nothing identifies it next request
            raise BadRequest(f"this connection has no session to keep toolsets in ({e}); start the gateway with "
                             f"--toolsets {name} or list it in [gateway] toolsets") from e
        return f"toolset {name!r} is on; the host was told the tool list changed"

"""Serving the worker's FastMCP app over stdio (on the private stdout duplicate) or streamable HTTP.

fastmcp's `run_stdio_async` calls `stdio_server()` without streams, which would claim fd 1 only
after the lifespan has printed; so stdio is assembled here from the same parts it uses
(lifespan manager, low-level server, mcp's `stdio_server(stdout=...)`), pinned by
tests/servers/blender_primary/test_stdio.py.
"""

from __future__ import annotations

import os
from io import TextIOWrapper

import anyio
from fastmcp import FastMCP
from fastmcp.server.context import reset_transport, set_transport
from mcp.server.stdio import stdio_server

__all__ = ["serve_stdio", "serve_http", "HTTP_PATH"]

HTTP_PATH = "/mcp"


async def serve_stdio(mcp: FastMCP, wire_fd: int) -> None:
    wire = anyio.wrap_file(TextIOWrapper(os.fdopen(wire_fd, "wb", closefd=False), encoding="utf-8", write_through=True))
    token = set_transport("stdio")
    try:
        async with mcp._lifespan_manager():
            async with stdio_server(stdout=wire) as (read_stream, write_stream):
                low_level = mcp._mcp_server
                await low_level.run(read_stream, write_stream, low_level.create_initialization_options())
    finally:
        reset_transport(token)


async def serve_http(mcp: FastMCP, host: str, port: int) -> None:
    await mcp.run_http_async(show_banner=False, transport="http", host=host, port=port, path=HTTP_PATH)

"""Serving the worker's FastMCP app over streamable HTTP (stdio: harness.serving.serve_stdio)."""

from __future__ import annotations

from fastmcp import FastMCP

__all__ = ["serve_http", "HTTP_PATH"]

HTTP_PATH = "/mcp"


async def serve_http(mcp: FastMCP, host: str, port: int) -> None:
    await mcp.run_http_async(show_banner=False, transport="http", host=host, port=port, path=HTTP_PATH)

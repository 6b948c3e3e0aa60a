"""A tiny real stdio MCP server the mesh tests mount as a user's upstream server."""

from __future__ import annotations

import os

from fastmcp import FastMCP

mcp = FastMCP("echo")


@mcp.tool
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@mcp.tool
def run() -> str:
    """Mounted under the namespace `get`, this clashes with the gateway's own get_run."""
    return "echo's run"


@mcp.tool
def pid() -> int:
    """This server's process id, so a test can kill it."""
    return os.getpid()


@mcp.tool(name="weird.name with spaces")
def weird() -> str:
    """A name that is not valid on the gateway until sanitised."""
    return "ok"


if __name__ == "__main__":
    mcp.run(show_banner=False)

"""The gateway's MCP client for servers it talks to: workers, the vision server, the user's servers.

Every result either goes on to a host, which validates it against the tool's output schema
itself, or is parsed into our own pydantic models; the SDK checking it here too with jsonschema
would cost each call about a millisecond for nothing.
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types
from fastmcp import Client
from fastmcp.client.transports.base import TransportOptions
from mcp import ClientSession

__all__ = ["RelaySession", "RelayClient", "error_text"]


class RelaySession(ClientSession):
    """A session that skips output-schema validation (see the module docstring)."""

    async def validate_tool_result(self, name: str, result: mcp_types.CallToolResult) -> None:
        return None


class RelayClient(Client):
    """A fastmcp Client whose sessions are RelaySessions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._transport_options = TransportOptions(session_class=RelaySession)


def error_text(result: mcp_types.CallToolResult) -> str:
    """The text of an error result (our servers' messages start with their [TAG])."""
    texts = [b.text for b in result.content if isinstance(b, mcp_types.TextContent)]
    return " ".join(texts)[:2000] or json.dumps(result.structured_content or {})[:500]

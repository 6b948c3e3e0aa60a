"""The base of the errors an MCP server of ours reports: its text starts with a stable `[TAG]`.

The worker and the vision server each derive their own tree from it (servers/*/errors.py), so
the far side (gateway, coordinator) maps a failure back by its tag, never by parsing prose.
Importing this pulls in fastmcp: only the servers do, not the coordinator.
"""

from __future__ import annotations

from fastmcp.exceptions import ToolError

__all__ = ["TaggedToolError"]


class TaggedToolError(ToolError):
    """A ToolError (the message the host model sees) whose text is `[{tag}] {message}`."""

    tag = "TOOL_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(f"[{self.tag}] {message}")

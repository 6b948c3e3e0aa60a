"""Errors a Blender worker tool reports to its MCP client.

Every message crossing MCP starts with a stable tag so the far side (gateway, coordinator)
can map it back without parsing prose::

    ToolError (fastmcp: the message the host model sees; anything else is masked)
     └── WorkerToolError            [TAG] message
          ├── BadIdError            [BAD_ID]          id/name outside ^[A-Za-z0-9_-]{1,64}$
          ├── BadPathError          [BAD_PATH]        output path escaping the output dir
          ├── UnknownObjectError    [UNKNOWN_OBJECT]  no object of that name (lists closest names)
          ├── UnknownBaselineError  [UNKNOWN_BASELINE] no saved baseline of that id
          ├── BaselineError         [BASELINE_ERROR]  saving or loading a .blend failed
          └── RenderError           [RENDER_ERROR]    Blender failed to render a view

A snippet's own failure is not an error here: execute_code returns a failed ExecutionReport.
"""

from __future__ import annotations

from fastmcp.exceptions import ToolError

__all__ = [
    "WorkerToolError",
    "BadIdError",
    "BadPathError",
    "UnknownObjectError",
    "UnknownBaselineError",
    "BaselineError",
    "RenderError",
]


class WorkerToolError(ToolError):
    tag = "WORKER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(f"[{self.tag}] {message}")


class BadIdError(WorkerToolError):
    tag = "BAD_ID"


class BadPathError(WorkerToolError):
    tag = "BAD_PATH"


class UnknownObjectError(WorkerToolError):
    tag = "UNKNOWN_OBJECT"


class UnknownBaselineError(WorkerToolError):
    tag = "UNKNOWN_BASELINE"


class BaselineError(WorkerToolError):
    tag = "BASELINE_ERROR"


class RenderError(WorkerToolError):
    tag = "RENDER_ERROR"

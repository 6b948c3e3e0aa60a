"""Gateway failures, and the one place that turns them into text for the host model.

    GatewayError                      anything the gateway reports; `tag` prefixes its MCP text
     ├── WorkerError                  a Blender worker failed us (not the user's code)
     │    ├── WorkerCrashed           [WORKER_CRASHED]   the process died mid-call
     │    ├── WorkerTimedOut          [WORKER_TIMEOUT]   no answer within the call timeout; killed
     │    ├── WorkerOverMemory        [WORKER_MEMORY]    resident memory above the limit; killed
     │    └── WorkerUnavailable       [WORKER_UNAVAILABLE] could not be started / reached
     ├── WorkerToolError              the worker's own tool error, passed through with its tag ([BAD_ID] ...)
     ├── PoolExhausted                [POOL_EXHAUSTED]   every worker leased and the wait queue full or timed out
     ├── UnknownScene                 [UNKNOWN_SCENE]    no lease with that scene_id (released or expired)
     ├── UpstreamUnavailable          [UPSTREAM_UNAVAILABLE] a mesh server is down
     ├── CoordinatorUnavailable       [COORDINATOR_UNAVAILABLE] the run service is not installed
     ├── BadRequest                   [BAD_REQUEST]      arguments the gateway itself rejects
     └── ConfigError                  [CONFIG]           colossus.toml sections the gateway owns are invalid

Worker errors say what happened and what the gateway did about it (restarted, restored to which
state), so the host model can decide whether to retry.

`TOOL_ERRORS()` is the one table from our error classes to what a tool call answers; `tool_errors`
applies it to a tool or resource function, and every tool module uses it. Tool errors a worker or
the vision server raised themselves (fastmcp ToolError, [TAG] first) pass through unchanged;
anything not in the table is a bug and fastmcp masks it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from fastmcp.exceptions import ToolError

__all__ = [
    "GatewayError",
    "WorkerError",
    "WorkerCrashed",
    "WorkerTimedOut",
    "WorkerOverMemory",
    "WorkerUnavailable",
    "WorkerToolError",
    "PoolExhausted",
    "UnknownScene",
    "UpstreamUnavailable",
    "CoordinatorUnavailable",
    "BadRequest",
    "ConfigError",
    "TOOL_ERRORS",
    "describe",
    "to_tool_error",
    "tool_errors",
]

P = ParamSpec("P")
R = TypeVar("R")


class GatewayError(Exception):
    tag = "GATEWAY_ERROR"

    def __str__(self) -> str:
        text = super().__str__()
        return text if text.startswith("[") else f"[{self.tag}] {text}"


class WorkerError(GatewayError):
    tag = "WORKER_ERROR"
    killed_for: str | None = None  # why the watchdog killed the worker, for harness.classifier.classify_exit


class WorkerCrashed(WorkerError):
    tag = "WORKER_CRASHED"


class WorkerTimedOut(WorkerError):
    tag = "WORKER_TIMEOUT"
    killed_for = "timeout"


class WorkerOverMemory(WorkerError):
    tag = "WORKER_MEMORY"
    killed_for = "memory"


class WorkerUnavailable(WorkerError):
    tag = "WORKER_UNAVAILABLE"


class WorkerToolError(GatewayError):
    """The worker refused the call itself; its text already starts with a stable tag."""

    tag = "WORKER_TOOL_ERROR"


class PoolExhausted(GatewayError):
    tag = "POOL_EXHAUSTED"


class UnknownScene(GatewayError):
    tag = "UNKNOWN_SCENE"


class UpstreamUnavailable(GatewayError):
    tag = "UPSTREAM_UNAVAILABLE"


class CoordinatorUnavailable(GatewayError):
    tag = "COORDINATOR_UNAVAILABLE"


class BadRequest(GatewayError):
    tag = "BAD_REQUEST"


class ConfigError(GatewayError):
    tag = "CONFIG"


def describe(e: BaseException, limit: int = 300) -> str:
    """A foreign failure (a transport's, Ray's) in one short line for our own error texts; a group by its first."""
    if isinstance(e, BaseExceptionGroup) and e.exceptions:
        return describe(e.exceptions[0], limit)
    return (str(e) or type(e).__name__)[:limit]


@functools.cache
def TOOL_ERRORS() -> tuple[tuple[type[Exception], Callable[[Exception], str]], ...]:  # noqa: N802 - a table
    """Our error class → the text of the tool error the host reads; the first matching row wins.

    Built on first use: the worker processes (Ray actors) import this module for the worker errors
    and must not load the orchestrator with it."""
    from orchestrator.errors import OrchestratorError  # noqa: PLC0415

    return (
        (ToolError, str),  # a worker's or the vision server's own tool error: its [TAG] is already first
        (GatewayError, str),  # gateway, worker, pool and upstream failures: str() starts with the class's tag
        (OrchestratorError, lambda e: str(BadRequest(str(e)))),  # refused by the coordinator: bad task, unknown run...
    )


def to_tool_error(error: Exception) -> ToolError:
    """The single translation from our failures to what the host model reads (TOOL_ERRORS)."""
    if isinstance(error, ToolError):
        return error
    text = next(text for kind, text in TOOL_ERRORS() if isinstance(error, kind))
    return ToolError(text(error))


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Wrap a tool or resource function so the errors in TOOL_ERRORS reach the host as tool errors."""

    @functools.wraps(fn)
    async def mapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except ToolError:
            raise
        except Exception as e:
            if not any(isinstance(e, kind) for kind, _ in TOOL_ERRORS()):
                raise  # a bug: fastmcp masks it
            raise to_tool_error(e) from e

    return mapped

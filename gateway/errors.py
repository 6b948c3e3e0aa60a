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
"""

from __future__ import annotations

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
    "to_tool_error",
]


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


def to_tool_error(error: GatewayError) -> ToolError:
    """The single translation from gateway failures to what the host model reads."""
    return ToolError(str(error))

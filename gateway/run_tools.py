"""start_run, get_run, list_runs, cancel_run, resume_run, fork_run and runs://{run_id}: the coordinator's RunService.

When the orchestrator cannot provide a RunService, each says so with [COORDINATOR_UNAVAILABLE]
instead of pretending. The coordinator's own errors (unknown run, bad task) reach the host as
their text, which starts with the orchestrator's tag.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import mcp_types
from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from fastmcp.tools.base import ToolResult
from fastmcp.utilities.types import Image
from pydantic import BaseModel, Field

from gateway.dashboard.page import RUN_APP
from gateway.errors import GatewayError, to_tool_error
from gateway.services import GatewayServices

__all__ = ["register_run_tools", "coordinator_errors", "MAX_WAIT_S"]

MAX_WAIT_S = 45.0
RunId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$", description="handle returned by start_run")]


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


@asynccontextmanager
async def coordinator_errors() -> AsyncIterator[None]:
    """Gateway errors keep their tag; the orchestrator's own errors pass through as text."""
    try:
        yield
    except GatewayError as e:
        raise to_tool_error(e) from e
    except ToolError:
        raise
    except Exception as e:
        if type(e).__module__.startswith("orchestrator"):
            raise ToolError(str(e)) from e
        raise


def _best_images(status: dict[str, Any]) -> list[mcp_types.ContentBlock]:
    best, run_dir = status.get("best") or {}, Path(status.get("run_dir", "."))
    images = []
    for view, rel in sorted((best.get("renders") or {}).items()):
        path = Path(rel) if Path(rel).is_absolute() else run_dir / rel
        if path.is_file():
            images.append(Image(path=path).to_image_content())
    return images


def register_run_tools(app: FastMCP, services: GatewayServices) -> None:
    @app.tool(app=RUN_APP)
    async def start_run(
        task: Annotated[str, Field(description="path to a task.toml, or a description of what to build")],
        attempts: Annotated[int | None, Field(ge=1, le=16)] = None,
        iterations: Annotated[int | None, Field(ge=1, le=50)] = None,
        references: Annotated[dict[str, str] | None, Field(description="view → reference image path or base64")] = None,
        blueprint: Annotated[dict[str, Any] | None, Field(description="orthographic plans: {span_m, stations?, "
                                                                      "front/side/top: image path or base64, or "
                                                                      "{image, origin_px}} (DESIGN.md Blueprints)")] = None,
        max_cost_usd: Annotated[float | None, Field(gt=0, description="stop the run (status budget, best kept) once "
                                                                      "its model spend reaches this many USD")] = None,
        max_tokens: Annotated[int | None, Field(gt=0, description="stop the run once its model tokens reach this")] = None,
        tool_calls: Annotated[int | None, Field(ge=0, le=50, description="tool calls per iteration of a builder model "
                                                                         "that can call functions; 0: whole programs")] = None,
    ) -> dict[str, Any]:
        """Start the build → render → verify → fix loop in the background (N attempts, best kept); returns run_id at once."""
        overrides = {k: v for k, v in {"attempts": attempts, "iterations": iterations, "max_cost_usd": max_cost_usd,
                                       "max_tokens": max_tokens, "tool_calls": tool_calls}.items() if v is not None}
        is_file = task.endswith(".toml") and Path(task).is_file()
        spec: Any = task if is_file else {"description": task, **({"references": references} if references else {}),
                                          **({"blueprint": blueprint} if blueprint else {})}
        async with coordinator_errors():
            return {"run_id": await services.runs().start(spec, **overrides)}

    @app.tool(annotations={"readOnlyHint": True}, app=RUN_APP)
    async def get_run(run_id: RunId, wait_s: Annotated[float, Field(ge=0, le=MAX_WAIT_S)] = 0.0) -> ToolResult:
        """Status of a run: per-attempt scores, best so far (with its renders); waits up to wait_s for the
        next finished iteration. Poll again while status is running."""
        async with coordinator_errors():
            status = _dump(await services.runs().get(run_id, wait_s=wait_s))
        text = mcp_types.TextContent(type="text", text=json.dumps(status)[:20_000])
        return ToolResult(content=[text, *_best_images(status)], structured_content=status)

    @app.tool(annotations={"readOnlyHint": True})
    async def list_runs() -> dict[str, Any]:
        """All runs in the runs folder, newest first."""
        async with coordinator_errors():
            return {"runs": _dump(await _maybe_await(services.runs().list()))}

    @app.tool(annotations={"destructiveHint": True})
    async def cancel_run(run_id: RunId) -> dict[str, Any]:
        """Stop a run; finished iterations stay checkpointed and resume_run can continue it."""
        async with coordinator_errors():
            return {"cancelled": run_id, "status": _dump(await services.runs().cancel(run_id))}

    @app.tool
    async def resume_run(run_id: RunId) -> dict[str, Any]:
        """Continue a run after a crash or cancel, from its last checkpoint."""
        async with coordinator_errors():
            return {"run_id": await services.runs().resume(run_id)}

    @app.tool
    async def fork_run(
        run_id: RunId,
        attempt: Annotated[int, Field(ge=0, description="attempt of that run to fork from (get_run's attempts)")],
        iteration: Annotated[int, Field(ge=0, description="its completed iteration to start from")],
        builder: Literal["llm", "parametric", "hybrid"] | None = None,
        verifier: Literal["vlm", "metrics", "both"] | None = None,
        attempts: Annotated[int | None, Field(ge=1, le=16)] = None,
        iterations: Annotated[int | None, Field(ge=1, le=50)] = None,
        max_cost_usd: Annotated[float | None, Field(gt=0, description="spend cap of the new run, USD")] = None,
        max_tokens: Annotated[int | None, Field(gt=0, description="token cap of the new run")] = None,
        tool_calls: Annotated[int | None, Field(ge=0, le=50, description="tool calls per iteration of a builder model "
                                                                         "that can call functions")] = None,
    ) -> dict[str, Any]:
        """Start a NEW run whose attempts all begin from one iteration of an existing run: that iteration's
        program and the builder's memory up to it (the parametric search starts at its parameter values).
        Options default to the source run's. Returns the new run_id at once; poll it with get_run, whose
        forked_from says where it came from."""
        overrides = {"builder": builder, "verifier": verifier, "attempts": attempts, "iterations": iterations,
                     "max_cost_usd": max_cost_usd, "max_tokens": max_tokens, "tool_calls": tool_calls}
        async with coordinator_errors():
            return {"run_id": await services.runs().fork(run_id, attempt, iteration, **overrides)}

    @app.resource("runs://{run_id}", mime_type="application/json")
    async def run_resource(run_id: str) -> str:
        """A run's status as JSON."""
        async with coordinator_errors():
            return json.dumps(_dump(await services.runs().get(run_id, wait_s=0)))

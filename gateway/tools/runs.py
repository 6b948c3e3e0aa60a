"""start_run, get_run, list_runs, cancel_run, resume_run, fork_run and runs://{run_id}: the coordinator's RunService.

When the orchestrator cannot provide a RunService, each says so with [COORDINATOR_UNAVAILABLE]
instead of pretending. The coordinator's own errors (unknown run, bad task) reach the host as
[BAD_REQUEST] with their text (gateway.errors.TOOL_ERRORS). The run options start_run and
fork_run share are declared once, below. start_run, fork_run and resume_run also run as protocol
tasks for a client that declares the extension (gateway.tasks): the task ends with the run, and
its result is get_run's.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import mcp_types
from fastmcp import FastMCP
from fastmcp.server.context import Context
from fastmcp.tools.base import ToolResult
from fastmcp.utilities.types import Image
from pydantic import BaseModel, Field

from gateway.dashboard.page import RUN_APP
from gateway.errors import tool_errors
from gateway.handles import MAX_WAIT_S, RunId
from gateway.services import GatewayServices
from gateway.tasks import TASKS, as_task, run_to_end
from gateway.tools.toolsets import CORE, RUNS

__all__ = ["register"]

Attempts = Annotated[int | None, Field(ge=1, le=16)]
Iterations = Annotated[int | None, Field(ge=1, le=50)]
MaxCost = Annotated[float | None, Field(gt=0, description="stop the run (status budget, best kept) once its model "
                                                          "spend reaches this many USD")]
MaxTokens = Annotated[int | None, Field(gt=0, description="stop the run once its model tokens reach this")]
ToolCalls = Annotated[int | None, Field(ge=0, le=50, description="tool calls per iteration of a builder model that can "
                                                               "call functions; 0: whole programs")]
Models = Annotated[dict[str, list[str]] | None, Field(description="role (builder, verifier, summarizer, planner) → "
                                                                  "model chain for this run; checked before it starts")]


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _best_images(status: dict[str, Any]) -> list[mcp_types.ContentBlock]:
    best, run_dir = status.get("best") or {}, Path(status.get("run_dir", "."))
    images = []
    for view, rel in sorted((best.get("renders") or {}).items()):
        path = Path(rel) if Path(rel).is_absolute() else run_dir / rel
        if path.is_file():
            images.append(Image(path=path).to_image_content())
    return images


def _status_result(status: Any) -> ToolResult:
    """get_run's result: the status, and the best attempt's renders as images."""
    status = _dump(status)
    text = mcp_types.TextContent(type="text", text=json.dumps(status)[:20_000])
    return ToolResult(content=[text, *_best_images(status)], structured_content=status)


def register(app: FastMCP, services: GatewayServices) -> None:
    async def handle(run_id: str, ctx: Context | None) -> ToolResult:
        """The run's handle at once; as a task, get_run's result once the run has stopped."""
        if as_task(ctx):
            return _status_result(await run_to_end(services, run_id, ctx))
        return ToolResult(structured_content={"run_id": run_id})

    @app.tool(app=RUN_APP, tags={CORE}, task=TASKS)
    @tool_errors
    async def start_run(
        task: Annotated[str, Field(description="path to a task.toml, or a description of what to build")],
        attempts: Attempts = None,
        iterations: Iterations = None,
        references: Annotated[dict[str, str] | None, Field(description="view → reference image path or base64")] = None,
        blueprint: Annotated[dict[str, Any] | None, Field(description="orthographic plans: {span_m, stations?, "
                                                                      "front/side/top: image path or base64, or "
                                                                      "{image, origin_px}} (DESIGN.md Blueprints)")] = None,
        max_cost_usd: MaxCost = None,
        max_tokens: MaxTokens = None,
        tool_calls: ToolCalls = None,
        models: Models = None,
        recall: Annotated[bool | None, Field(description="false: start cold, not from the most similar past run")] = None,
        ctx: Context | None = None,
    ) -> ToolResult:
        """Start the build → render → verify → fix loop in the background (N attempts, best kept); returns run_id at
        once (as a task: get_run's result at the end)."""
        overrides = {k: v for k, v in {"attempts": attempts, "iterations": iterations, "max_cost_usd": max_cost_usd,
                                       "max_tokens": max_tokens, "tool_calls": tool_calls, "models": models,
                                       "recall": recall}.items()
                     if v is not None}
        is_file = task.endswith(".toml") and Path(task).is_file()
        spec: Any = task if is_file else {"description": task, **({"references": references} if references else {}),
                                          **({"blueprint": blueprint} if blueprint else {})}
        return await handle(await services.runs().start(spec, **overrides), ctx)

    @app.tool(tags={CORE}, annotations={"readOnlyHint": True}, app=RUN_APP)
    @tool_errors
    async def get_run(run_id: RunId, wait_s: Annotated[float, Field(ge=0, le=MAX_WAIT_S)] = 0.0) -> ToolResult:
        """Status of a run: per-attempt scores, best so far (with its renders); waits up to wait_s for the
        next finished iteration. Poll again while status is running."""
        return _status_result(await services.runs().get(run_id, wait_s=wait_s))

    @app.tool(tags={RUNS}, annotations={"readOnlyHint": True})
    @tool_errors
    async def list_runs() -> dict[str, Any]:
        """All runs in the runs folder, newest first."""
        return {"runs": _dump(await _maybe_await(services.runs().list()))}

    @app.tool(tags={RUNS}, annotations={"destructiveHint": True})
    @tool_errors
    async def cancel_run(run_id: RunId) -> dict[str, Any]:
        """Stop a run; finished iterations stay checkpointed and resume_run can continue it."""
        return {"cancelled": run_id, "status": _dump(await services.runs().cancel(run_id))}

    @app.tool(tags={RUNS}, task=TASKS)
    @tool_errors
    async def resume_run(run_id: RunId, ctx: Context | None = None) -> ToolResult:
        """Continue a run after a crash or cancel, from its last checkpoint."""
        return await handle(await services.runs().resume(run_id), ctx)

    @app.tool(tags={RUNS}, task=TASKS)
    @tool_errors
    async def fork_run(
        run_id: RunId,
        attempt: Annotated[int, Field(ge=0, description="attempt of that run to fork from (get_run's attempts)")],
        iteration: Annotated[int, Field(ge=0, description="its completed iteration to start from")],
        builder: Literal["llm", "parametric", "hybrid"] | None = None,
        verifier: Literal["vlm", "metrics", "both"] | None = None,
        attempts: Attempts = None,
        iterations: Iterations = None,
        max_cost_usd: MaxCost = None,
        max_tokens: MaxTokens = None,
        tool_calls: ToolCalls = None,
        models: Models = None,
        ctx: Context | None = None,
    ) -> ToolResult:
        """Start a new run from one iteration of an existing run (its program and the builder's memory up to it);
        options default to the source run's. Returns the new run_id at once."""
        overrides = {"builder": builder, "verifier": verifier, "attempts": attempts, "iterations": iterations,
                     "max_cost_usd": max_cost_usd, "max_tokens": max_tokens, "tool_calls": tool_calls, "models": models}
        return await handle(await services.runs().fork(run_id, attempt, iteration, **overrides), ctx)

    @app.resource("runs://{run_id}", mime_type="application/json")
    @tool_errors
    async def run_resource(run_id: str) -> str:
        """A run's status as JSON."""
        return json.dumps(_dump(await services.runs().get(run_id, wait_s=0)))

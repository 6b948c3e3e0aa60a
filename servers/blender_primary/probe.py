"""Probes of the parametric search: programs run from a baseline and measured, no render.

A probe is a program run from the attempt's baseline and its subject measured through the task's
cameras without a render (servers.blender_primary.measure). The search takes one per parameter
that moves geometry, several per iteration, all known at once for one anchor of the search:
`measure_programs` runs them in one worker call, each after a reset to the baseline, so an
iteration's probes cost one round trip, not two per probe. `execute_and_measure` is one program
on the scene as it is (or after a reset, with `baseline_id`).
"""

from __future__ import annotations

from typing import Annotated

from fastmcp import Context, FastMCP
from fastmcp.tools.base import ToolResult
from pydantic import Field

from harness.measure_types import MeasuredRun, MeasuredRuns
from harness.render_options import render_options
from harness.scene_types import RenderSettings
from servers.blender_primary.baselines import reset
from servers.blender_primary.execution import Code, TimeoutS, run_snippet
from servers.blender_primary.measure import measure_only
from servers.blender_primary.state import WorkerState, worker_state

__all__ = ["register"]

MAX_PROGRAMS = 64


def _measured(state: WorkerState, code: str, render: RenderSettings, timeout_s: float, baseline_id: str | None) -> MeasuredRun:
    if baseline_id is not None:
        reset(state, baseline_id)
    report = run_snippet(code, timeout_s, state.code_policy, state.tools)
    return MeasuredRun(report=report, measure=measure_only(render) if report.success else None)


def register(mcp: FastMCP) -> None:
    @mcp.tool(output_schema=MeasuredRun.model_json_schema())
    @render_options()
    async def execute_and_measure(code: Code, ctx: Context, render: RenderSettings, timeout_s: TimeoutS = 30.0,
                                  baseline_id: str | None = None) -> ToolResult:
        """execute_code, then measure the subject through every view's camera from the scene itself (no render):
        unclipped projected boxes, visible centroid and area, base colours. Milliseconds, where a render
        takes far longer: what a finite difference of the geometry needs. `baseline_id`: reset to that baseline
        first (as reset_to_baseline). `measure` is null when the code failed.
        """
        result = _measured(worker_state(ctx), code, render, timeout_s, baseline_id)
        return ToolResult(structured_content=result.model_dump(mode="json"))

    @mcp.tool(output_schema=MeasuredRuns.model_json_schema())
    @render_options()
    async def measure_programs(
        codes: Annotated[list[Code], Field(min_length=1, max_length=MAX_PROGRAMS)], baseline_id: str, ctx: Context,
        render: RenderSettings, timeout_s: TimeoutS = 30.0,
    ) -> ToolResult:
        """execute_and_measure for each program in turn, each from a reset to `baseline_id`: one call for several
        probes. The scene is left as the last program built it."""
        state = worker_state(ctx)
        runs = [_measured(state, code, render, timeout_s, baseline_id) for code in codes]
        return ToolResult(structured_content=MeasuredRuns(runs=runs).model_dump(mode="json"))

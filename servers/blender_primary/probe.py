"""execute_and_measure: one probe of the parametric search, in one worker call.

A probe is a program run from the attempt's baseline and its subject measured through the task's
cameras without a render (servers.blender_primary.measure). The search takes one per parameter
that moves geometry, several per iteration, so the reset that must come first rides in the same
call (`baseline_id`): a round trip less per probe, and the coordinator waits on one reply.
"""

from __future__ import annotations

from fastmcp import Context, FastMCP
from fastmcp.tools.base import ToolResult

from harness.measure_types import MeasuredRun
from harness.render_options import render_options
from harness.scene_types import RenderSettings
from servers.blender_primary.baselines import reset
from servers.blender_primary.execution import Code, TimeoutS, run_snippet
from servers.blender_primary.measure import measure_only
from servers.blender_primary.state import worker_state

__all__ = ["register"]


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
        state = worker_state(ctx)
        if baseline_id is not None:
            reset(state, baseline_id)
        report = run_snippet(code, timeout_s, state.code_policy, state.tools)
        result = MeasuredRun(report=report, measure=measure_only(render) if report.success else None)
        return ToolResult(structured_content=result.model_dump(mode="json"))

"""What the attempt loop does for a task with blueprints (DESIGN.md "Blueprints").

The camera pack gains the plan cameras; the plan renders (`plan_<view>`) go to the vision
server's blueprint measurement instead of the sentinel, and to a VLM verifier beside their
drawings; the report's score joins the iteration's score and its residual vector the
parametric builder's.
"""

from __future__ import annotations

from pathlib import Path

from harness.blueprint_types import PLAN_PREFIX, Blueprint, BlueprintReport, plan_name
from harness.scene_types import RenderSettings
from orchestrator.task import Task

__all__ = ["pack_settings", "split_renders", "drawing_refs", "feedback_lines", "plans_note", "BLUEPRINT_WEIGHT"]

BLUEPRINT_WEIGHT = 3.0
"""The blueprint residuals (fractions of the span) in the least-squares vector: a 1 % error of an
edge weighs as a 3 % edge shift of a perspective view, since a plan states its sizes outright."""


def pack_settings(task: Task) -> RenderSettings:
    """The task's render settings with its plan cameras, when it has blueprints."""
    if task.blueprint is None:
        return task.render
    return task.render.model_copy(update={"plans": task.blueprint.cameras()})


def split_renders(renders: dict[str, Path]) -> tuple[dict[str, Path], dict[str, Path]]:
    """(perspective views, plan views) of a pack."""
    plans = {v: p for v, p in renders.items() if v.startswith(PLAN_PREFIX)}
    return {v: p for v, p in renders.items() if v not in plans}, plans


def drawing_refs(task: Task) -> dict[str, Path]:
    """Each drawing under its plan render's name: what a verifier sees beside the render."""
    if task.blueprint is None:
        return {}
    return {plan_name(view): v.image for view, v in task.blueprint.views.items()}


def plans_note(blueprint: Blueprint) -> str:
    """What a builder model is told about the plans it builds to."""
    return (f"Orthographic plans follow for views: {', '.join(sorted(blueprint.views))}; each drawing's width covers "
            f"{blueprint.span_m:g} m (front looks along +Y, side along -X, top down -Z; z = 0 at the bottom edge of "
            "front and side). The feedback measures orthographic renders against them in metres.")


def feedback_lines(report: BlueprintReport) -> list[str]:
    ious = ", ".join(f"{v} IoU {r.iou:.3f}" for v, r in report.views.items())
    sizes = ", ".join(f"{k} {report.overall_m[k]:.2f} m ({d:+.2f})" for k, d in report.overall_residual_m.items())
    return [f"Blueprint match {report.score:.3f} ({ious}); plan sizes {sizes}",
            *(f"Against the plans, {d}" for d in report.directions)]

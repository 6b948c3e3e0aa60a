"""What the worker measures of a rendered scene from the scene itself (VIS-05, issue 18).

Only data: the worker fills it (servers/blender_primary/measure.py), the vision server reads it
beside a render (`<view>.measure.json`, with the label mask `<view>.mask.png`), the parametric
builder differences it without rendering. Positions are fractions of the image, x to the right,
y UP, like harness.residuals; boxes are NOT clipped by the frame (a subject wider than the frame
has left < 0 or right > 1), so a size still has a value and a gradient when the frame cuts it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from harness.report import ExecutionReport

__all__ = ["Box", "ObjectMeasure", "ViewMeasure", "SceneMeasure", "MeasuredRun", "MASK_SUFFIX", "MEASURE_SUFFIX", "side_file"]

MASK_SUFFIX = ".mask.png"
"""Beside `<view>.png`: 8-bit labels, 0 = not subject, k = the k-th subject object (ViewMeasure.objects[k-1]);
for a reference, any non-zero pixel is subject (a task may ship `ref/<view>.mask.png`)."""
MEASURE_SUFFIX = ".measure.json"
"""Beside a render: its ViewMeasure."""


def side_file(image: str, suffix: str) -> str:
    """`…/front.png` → `…/front<suffix>`."""
    stem, dot, _ = image.rpartition(".")
    return (stem if dot else image) + suffix


class Box(BaseModel):
    """A projected outline: unclipped box edges, and the centroid and area of its pixels inside the frame."""

    left: float
    right: float
    top: float
    bottom: float
    cx: float = Field(description="centroid of the visible pixels (the box centre when none is visible)")
    cy: float
    area: float = Field(description="visible share of the frame")

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.top - self.bottom

    @property
    def in_frame(self) -> bool:
        return self.right > 0 and self.left < 1 and self.top > 0 and self.bottom < 1


class ObjectMeasure(BaseModel):
    name: str
    label: int = Field(description="its value in the mask")
    box: Box | None = Field(None, description="None when it projects to nothing (behind the camera, no faces)")
    base_colour: tuple[float, float, float] | None = Field(None, description="linear RGB of its first material")


class ViewMeasure(BaseModel):
    view: str
    subject: Box | None = Field(None, description="all subject objects together; None when nothing projects")
    objects: list[ObjectMeasure] = Field(default_factory=list)
    profile: list[float] | None = Field(None, description="the subject mask's profile (harness.profiles.image_profile); "
                                        "None when nothing is in the frame")
    frame_width_m: float | None = Field(None, description="the frame's width in metres at the subject's depth: "
                                                          "image fractions × this = metres")
    shadows: bool = Field(False, description="rendered with cast shadows (Cycles): shadow-like darkening is not subject")
    mask_png: str | None = Field(None, description="the label mask as base64 PNG (a render's; written beside it as "
                                                   "<view>.mask.png by whoever stores the render)")


class SceneMeasure(BaseModel):
    subject: list[str] = Field(description="the objects measured as the subject")
    background: list[str] = Field(default_factory=list, description="objects the program made that count as background "
                                                                     "(a ground plane)")
    views: dict[str, ViewMeasure] = Field(default_factory=dict)
    elapsed_ms: float = 0.0


class MeasuredRun(BaseModel):
    """A program's report and, only when it ran cleanly, its scene measured (the worker's execute_and_measure)."""

    report: ExecutionReport
    measure: SceneMeasure | None = None


class MeasuredRuns(BaseModel):
    """Several programs, each run from the same baseline and measured (the worker's measure_programs)."""

    runs: list[MeasuredRun]

"""Blueprints as data: the task's [blueprint] table, the orthographic cameras it implies, and what
the comparison of a render with a drawing reports (DESIGN.md "Blueprints").

Geometry, shared by the renderer and the measurer so both put a pixel at the same place: a
drawing of W×H pixels covers `span_m` metres across its width, so a pixel is span_m / W metres
square. `origin_px` (x right, y down, pixels) is where the world origin lies in the drawing:
by default the middle of the bottom edge in front and side views (z = 0 at the bottom) and the
centre of a top view. Each view's image axes are world axes (VIEW_AXES), as the camera pack's.
Only data: nothing here imports OpenCV or Blender.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "BLUEPRINT_VIEWS", "BlueprintViewName", "VIEW_AXES", "MAX_DRAWING_PX", "PLAN_PREFIX", "PLAN_RENDER_PX",
    "PlanCamera", "BlueprintView", "Blueprint", "plan_name", "PlanViewReport", "BlueprintReport",
]

BlueprintViewName = Literal["front", "side", "top"]
BLUEPRINT_VIEWS: tuple[str, ...] = ("front", "side", "top")
VIEW_AXES: dict[str, tuple[str, str]] = {"front": ("x", "z"), "side": ("y", "z"), "top": ("x", "y")}
"""World axis along the image's right and up, per view (front looks along +Y, side along −X, top down −Z)."""
MAX_DRAWING_PX = 8192
PLAN_PREFIX = "plan_"
PLAN_RENDER_PX = 1024
"""Long side of an orthographic render: 3 cm a pixel at a 30 m span, so a 5 m beam is measured to 0.6 %."""


def plan_name(view: str) -> str:
    """The render name of a view's orthographic render (beside the perspective `side`: `plan_side`)."""
    return PLAN_PREFIX + view


class PlanCamera(BaseModel):
    """An orthographic render the camera pack adds: ortho scale = span_m across the width."""

    name: str = Field(pattern=r"^plan_(front|side|top)$")
    view: BlueprintViewName
    span_m: float = Field(gt=0)
    width: int = Field(ge=16, le=4096)
    height: int = Field(ge=16, le=4096)
    centre: tuple[float, float] = Field(description="world coordinates (right axis, up axis) of the image centre, m")


class BlueprintView(BaseModel):
    view: BlueprintViewName
    image: Path
    size_px: tuple[int, int] = Field(description="drawing width, height")
    origin_px: tuple[float, float] = Field(description="the world origin in the drawing, pixels (x right, y down)")

    def pixel_m(self, span_m: float) -> float:
        return span_m / self.size_px[0]

    def centre(self, span_m: float) -> tuple[float, float]:
        """World coordinates (right, up) of the drawing's centre."""
        s = self.pixel_m(span_m)
        w, h = self.size_px
        return ((w / 2 - self.origin_px[0]) * s, (self.origin_px[1] - h / 2) * s)


class Blueprint(BaseModel):
    span_m: float = Field(gt=0, description="the real length the full width of every drawing covers, metres")
    stations: int = Field(10, ge=2, le=100, description="profile stations along the length")
    views: dict[str, BlueprintView]

    def cameras(self, long_side: int = PLAN_RENDER_PX) -> list[PlanCamera]:
        """One orthographic camera per drawing, same aspect as the drawing, long side `long_side` px."""
        out = []
        for name, v in sorted(self.views.items()):
            w, h = v.size_px
            scale = long_side / max(w, h)
            out.append(PlanCamera(name=plan_name(name), view=v.view, span_m=self.span_m,
                                  width=max(16, round(w * scale)), height=max(16, round(h * scale)),
                                  centre=v.centre(self.span_m)))
        return out


class PlanViewReport(BaseModel):
    """One orthographic render against its drawing, in metres (render − drawing)."""

    view: str
    iou: float = Field(description="silhouette IoU on the render's pixel grid")
    extent_m: dict[str, float] = Field(description="drawing's extent along each image axis, e.g. {'y': 24.0, 'z': 9.5}")
    extent_residual_m: dict[str, float] = Field(description="render − drawing extent per world axis")
    station_m: list[float] = Field(description="station positions along the view's right axis, m")
    profile: dict[str, list[float]] = Field(description="drawing's profile per station: top, bottom (heights) or half_breadth")
    profile_residual_m: dict[str, list[float]] = Field(description="render − drawing, per profile, per station")
    profile_agreement: float = Field(description="exp(−mean |profile & extent residual| / (PROFILE_SCALE·span))")
    score: float = Field(description="mean of iou and profile_agreement: no colour in it")
    parts: int = Field(0, description="inner closed regions the drawing shows (reported, not scored)")


class BlueprintReport(BaseModel):
    span_m: float
    views: dict[str, PlanViewReport]
    overall_m: dict[str, float] = Field(description="drawing's overall length, beam, height (those shown), m")
    overall_residual_m: dict[str, float] = Field(description="render − drawing for length, beam, height, m")
    score: float = Field(description="mean over views of the view scores")
    directions: list[str] = Field(default_factory=list, description="the largest differences, in words")
    vector: list[float] = Field(default_factory=list, description="residuals / span_m, stable order: for least squares")
    elapsed_ms: float = 0.0

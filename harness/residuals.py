"""Residuals of a render against its reference, as data and as directions (VIS-05).

The vision server measures them (servers/viewport_vision/residuals.py); three consumers read
them here, with no OpenCV: the parametric builder regresses on `vector()`, and the LLM builder,
hosts and report.html read `describe()`, computed sentences such as
"front: 18 % narrower and 0.3 of its width to the left; colour off by ΔE 21: bluer (Δb −19)".

Conventions: every difference is render − reference, ratios are render ÷ reference; positions
are fractions of the image with x to the right and y up; colour is CIELAB (L 0..100).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from harness.measure_types import Box
from harness.profiles import PROFILE_BANDS, PROFILE_NAMES

__all__ = ["PartResiduals", "ViewResiduals", "NAMED", "VECTOR_NAMES", "profile_residuals", "COLOUR_SCALE", "MISSING_SUBJECT", "describe_views",
           "geometry_residuals", "geometry_vector"]

NAMED = ("left", "right", "top", "bottom", "centroid_dx", "centroid_dy", "log_width", "log_height",
         "L", "a", "b", "L_in_place", "a_in_place", "b_in_place")
VECTOR_NAMES = NAMED + tuple(f"profile_{name}_{k}" for name in PROFILE_NAMES for k in range(PROFILE_BANDS))
"""What `ViewResiduals.vector()` holds, in order (stable: a program may regress on it): the named residuals,
then the silhouette profile's differences (harness.profiles: per height band the left, then the right edges)."""

COLOUR_SCALE = 1 / 200
"""Lab units → vector units: ΔE 2 (a just visible difference) weighs as much as a 1 % shift of an
edge (1.3 px at 128²), so colour and geometry are fitted together, neither drowning the other."""

MISSING_SUBJECT = 1.0
"""Every vector entry of a view whose render shows no subject: far worse than any real mismatch,
so a search backs away from parameters that push the subject out of the frame."""

Status = Literal["ok", "no_subject_in_render", "no_subject_in_reference", "no_subject"]


class _Residuals(BaseModel):
    left: float | None = Field(None, description="render's left edge − reference's, fraction of image width (+ = further right)")
    right: float | None = Field(None, description="right edge difference, fraction of image width")
    top: float | None = Field(None, description="top edge difference, fraction of image height (+ = higher)")
    bottom: float | None = Field(None, description="bottom edge difference, fraction of image height")
    centroid_dx: float | None = Field(None, description="subject centroid x difference, fraction of image width")
    centroid_dy: float | None = Field(None, description="subject centroid y difference, fraction of image height (+ = higher)")
    width_ratio: float | None = Field(None, description="subject box width, render ÷ reference")
    height_ratio: float | None = Field(None, description="subject box height, render ÷ reference")
    area_ratio: float | None = Field(None, description="subject area (pixels), render ÷ reference")
    aspect_ratio: float | None = Field(None, description="box aspect (width/height), render ÷ reference")
    dL: float | None = Field(None, description="CIELAB lightness difference of the subject's mean colour")
    da: float | None = Field(None, description="CIELAB a* difference (+ = redder, − = greener)")
    db: float | None = Field(None, description="CIELAB b* difference (+ = yellower, − = bluer)")
    dE2000: float | None = Field(None, description="CIEDE2000 colour difference of the subjects' mean colours")
    dL_in_place: float | None = Field(None, description="mean lightness of the render over the reference subject's "
                                                        "pixels minus the reference's")
    da_in_place: float | None = Field(None, description="a* of the same, render − reference")
    db_in_place: float | None = Field(None, description="b* of the same, render − reference")

    def _phrases(self, reference_width: float | None, metres: float | None = None) -> list[str]:
        out = []
        shape = [_ratio(self.width_ratio, "wider", "narrower"), _ratio(self.height_ratio, "taller", "shorter")]
        if any(shape):
            out.append(" and ".join(p for p in shape if p))
            if metres and None not in (self.left, self.right, self.top, self.bottom):  # the same in metres
                sizes = [_metres((self.right - self.left) * metres, "too wide", "too narrow"),
                         _metres((self.top - self.bottom) * metres, "too tall", "too short")]
                if any(sizes):
                    out[-1] += " (" + ", ".join(p for p in sizes if p) + ")"
        if self.centroid_dx is not None and abs(self.centroid_dx) >= 0.01:
            side = "right" if self.centroid_dx > 0 else "left"
            rel = abs(self.centroid_dx) / reference_width if reference_width else None
            if metres:
                out.append(f"{abs(self.centroid_dx) * metres:.2g} m too far {side}")
            else:
                out.append(f"{rel:.2g} of its width to the {side}" if rel is not None else f"{abs(self.centroid_dx):.0%} of the frame to the {side}")
        if self.centroid_dy is not None and abs(self.centroid_dy) >= 0.01:
            updown = "higher" if self.centroid_dy > 0 else "lower"
            out.append(f"{abs(self.centroid_dy) * metres:.2g} m too {'high' if self.centroid_dy > 0 else 'low'}" if metres
                       else f"{abs(self.centroid_dy):.0%} of the frame {updown}")
        if self.dE2000 is not None and self.dE2000 >= 3:
            axes = [(self.dL, "lighter", "darker", "ΔL"), (self.da, "redder", "greener", "Δa"),
                    (self.db, "yellower", "bluer", "Δb")]
            tints = [f"{up if d > 0 else down} ({name} {d:+.0f})" for d, up, down, name in axes if d is not None and abs(d) >= 2]
            out.append(f"colour off by ΔE {self.dE2000:.0f}" + (": " + ", ".join(tints) if tints else ""))
        return out


def _metres(value: float, more: str, less: str) -> str | None:
    if abs(value) < 0.01:
        return None
    return f"{abs(value):.2g} m {more if value > 0 else less}".rstrip()


def geometry_residuals(render: Box, ref: Box) -> dict[str, float]:
    """The geometric residuals of two outlines (render − reference; ratios render ÷ reference)."""
    return {
        "left": render.left - ref.left, "right": render.right - ref.right,
        "top": render.top - ref.top, "bottom": render.bottom - ref.bottom,
        "centroid_dx": render.cx - ref.cx, "centroid_dy": render.cy - ref.cy,
        "width_ratio": render.width / ref.width, "height_ratio": render.height / ref.height,
        "area_ratio": render.area / ref.area if ref.area else 1.0,
        "aspect_ratio": (render.width / render.height) / (ref.width / ref.height),
    }


def profile_residuals(render: list[float] | None, reference: list[float] | None) -> list[float] | None:
    """Render − reference, entry by entry, of two image profiles (harness.profiles.image_profile)."""
    if render is None or reference is None:
        return None
    return [a - b for a, b in zip(render, reference)]


def geometry_vector(values: dict[str, float]) -> list[float]:
    """The geometric head of `ViewResiduals.vector()` (VECTOR_NAMES[:8]) from geometry_residuals."""
    return [values["left"], values["right"], values["top"], values["bottom"], values["centroid_dx"],
            values["centroid_dy"], math.log(max(values["width_ratio"], 1e-6)), math.log(max(values["height_ratio"], 1e-6))]


def _ratio(value: float | None, more: str, less: str) -> str | None:
    if value is None or abs(value - 1) < 0.03:
        return None
    return f"{abs(value - 1):.0%} {more if value > 1 else less}"


class PartResiduals(_Residuals):
    """The same residuals for one matched part: the n-th largest connected piece of each subject."""

    index: int = Field(description="0 = the largest part")


class ViewResiduals(_Residuals):
    """One view's residuals; values are None unless status is 'ok'."""

    status: Status = Field(description="ok, or which image shows no subject (then no residuals)")
    measured_by: Literal["scene", "pixels"] = Field("pixels", description="scene: the render's subject from the scene "
                                                    "and the reference's against the scene's own background; pixels: "
                                                    "both segmented from colours (see note for why)")
    note: str | None = Field(None, description="why scene-based measurement is unavailable, or what else to know")
    frame_width_m: float | None = Field(None, description="the frame's width in metres at the subject: fractions × this = metres")
    reference_box: Box | None = Field(None, description="the reference subject's outline (for differencing a measured scene)")
    reference_area: float | None = Field(None, description="the reference subject's share of the frame")
    reference_width: float | None = Field(None, description="the reference subject's box width, fraction of the image")
    parts: list[PartResiduals] = Field(default_factory=list,
                                       description="per matched part (largest first), when a subject has several")
    profile: list[float] | None = Field(None, description="the silhouette's profile, render − reference (harness.profiles: "
                                        "per height band the left, then the right edges), "
                                        "image fractions: which part of a connected subject is too wide")
    reference_profile: list[float] | None = Field(None, description="the reference subject's profile (for differencing "
                                                  "a measured scene)")

    def vector(self) -> list[float]:
        """VECTOR_NAMES in order: 0 everywhere for a perfect match; the parametric builder's residuals."""
        in_place = [(d or 0.0) * COLOUR_SCALE for d in (self.dL_in_place, self.da_in_place, self.db_in_place)]
        profile = [0.0] * (len(VECTOR_NAMES) - len(NAMED))
        if self.status == "no_subject_in_render":  # in place still says what is where the subject should be
            return [MISSING_SUBJECT] * (len(NAMED) - 3) + in_place + [MISSING_SUBJECT] * len(profile)
        if self.status != "ok":  # nothing to match against in this view
            return [0.0] * len(VECTOR_NAMES)
        geometry = [self.left, self.right, self.top, self.bottom, self.centroid_dx, self.centroid_dy,
                    math.log(self.width_ratio or 1.0), math.log(self.height_ratio or 1.0)]
        colour = [(d or 0.0) * COLOUR_SCALE for d in (self.dL, self.da, self.db)]
        return [float(v or 0.0) for v in geometry] + colour + in_place + (self.profile or profile)

    def describe(self, view: str) -> str:
        """One sentence a builder can act on."""
        note = f" [{self.note}]" if self.note else ""
        if self.status == "no_subject_in_render":
            return f"{view}: nothing visible in the render where the reference shows a subject" + note
        if self.status != "ok":
            return f"{view}: the reference shows no subject, so no direction can be measured" + note
        phrases = self._phrases(self.reference_width, self.frame_width_m)
        text = f"{view}: " + ("; ".join(phrases) if phrases else "matches the reference in size, place and colour") + note
        worst = [p for p in self.parts if p._phrases(None)]
        return text + "".join(f" (part {p.index + 1}: {'; '.join(p._phrases(None))})" for p in worst[:2])


def describe_views(residuals: dict[str, ViewResiduals]) -> list[str]:
    """One sentence per view, in view order."""
    return [r.describe(view) for view, r in residuals.items()]

"""Orthographic renders against their drawings, measured in metres (DESIGN.md "Blueprints", VIS-05).

Each side is measured where it is known exactly: the render's silhouette is the alpha Blender
wrote for the plan camera (servers/blender_primary/plan_views.py), the drawing's is what
harness.blueprint_drawing reads from the line work. Both are placed in the world by the shared
geometry of harness.blueprint_types, each at its own pixel size, so profiles and extents compare
in metres without resampling; only the IoU resamples the drawing onto the render's grid.

Residuals are render − drawing: overall length, beam and height (length is the horizontal world
axis the drawings show longer), per view the extents, the top and bottom heights at N stations
(front, side) and the half-breadths at N stations along the length (top). Stations divide each
silhouette's own length, as a naval architect's do, and each station's value is the mean over its
band of the length. The score uses no
colour: per view the mean of the silhouette IoU and the profile agreement.
"""

from __future__ import annotations

import functools
import math
import time
from pathlib import Path

import numpy as np

from harness.blueprint_drawing import Drawing, DrawingError, read_drawing_file
from harness.blueprint_types import VIEW_AXES, Blueprint, BlueprintReport, BlueprintView, PlanViewReport, plan_name
from harness.profiles import band_spans
from servers.viewport_vision.errors import BadImageError
from servers.viewport_vision.images import LoadedImage

__all__ = ["measure_blueprint", "drawing_of", "PROFILE_SCALE"]

PROFILE_SCALE = 0.02
"""A mean profile error of 2 % of the span costs the view's profile agreement a factor e."""
DIRECTION_MIN = 0.005  # of the span: smaller differences are not worth a sentence
MAX_DIRECTIONS = 6


@functools.lru_cache(maxsize=32)
def _read(path: str, _mtime_ns: int, _size: int) -> Drawing:
    return read_drawing_file(Path(path))


def drawing_of(view: BlueprintView) -> Drawing:
    """The drawing as read, cached while the file is unchanged."""
    try:
        st = view.image.stat()
        return _read(str(view.image), st.st_mtime_ns, st.st_size)
    except (OSError, DrawingError) as e:
        raise BadImageError(f"blueprint.{view.view}: {e}") from None


class _Frame:
    """A silhouette placed in the world: pixel centres → metres along the view's right and up axes."""

    def __init__(self, mask: np.ndarray, left_m: float, top_m: float, pixel_m: float) -> None:
        h, w = mask.shape
        self.mask, self.s, self.left, self.top = mask, pixel_m, left_m, top_m
        self.right = left_m + (np.arange(w) + 0.5) * pixel_m
        self.up = top_m - (np.arange(h) + 0.5) * pixel_m
        cols, rows = mask.any(axis=0), mask.any(axis=1)
        self.box = (0.0, 0.0, 0.0, 0.0) if not cols.any() else (
            float(self.right[cols].min()) - pixel_m / 2, float(self.right[cols].max()) + pixel_m / 2,
            float(self.up[rows].min()) - pixel_m / 2, float(self.up[rows].max()) + pixel_m / 2)

    def on(self, grid: "_Frame") -> np.ndarray:
        """This silhouette sampled at the pixel centres of `grid` (nearest pixel; outside is empty)."""
        h, w = self.mask.shape
        cols = np.floor((grid.right - self.left) / self.s).astype(int)
        rows = np.floor((self.top - grid.up) / self.s).astype(int)
        out = self.mask[np.ix_(rows.clip(0, h - 1), cols.clip(0, w - 1))]
        return out & ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]

    def extent(self, axis: int) -> float:
        lo, hi = self.box[2 * axis], self.box[2 * axis + 1]
        return hi - lo

    def bands(self, along: int, n: int) -> list[tuple[float, float]]:
        """Per station, the mean (low, high) of the silhouette across the other axis over the station's band:
        the n equal bands of the silhouette's own extent along `along` (empty lines count as 0, 0).

        A mean over the band, not a sample at its middle, so an edge moving inside a band moves the
        profile continuously: the least squares gets a slope, not steps."""
        mask = self.mask if along == 0 else self.mask.T
        coords, other = (self.right, self.up) if along == 0 else (self.up, self.right)
        return band_spans(mask, coords, other, (self.box[2 * along], self.box[2 * along + 1]), n, self.s / 2)


def _length_axis(blueprint: Blueprint, drawn: dict[str, _Frame]) -> str:
    """The horizontal world axis the drawings show longer (x or y)."""
    seen: dict[str, float] = {}
    for name, frame in drawn.items():
        for k, axis in enumerate(VIEW_AXES[blueprint.views[name].view]):
            if axis != "z":
                seen[axis] = max(seen.get(axis, 0.0), frame.extent(k))
    return max(seen, key=lambda a: seen[a])


def _iou(drawn: _Frame, rendered: _Frame) -> float:
    drawing = drawn.on(rendered)
    union = int((drawing | rendered.mask).sum())
    return float((drawing & rendered.mask).sum()) / union if union else 1.0


def _stations(frame: _Frame, along: int, n: int) -> list[float]:
    """The middles of the n equal bands of the frame's own extent: station k compares the same fraction
    of the length in drawing and render, so a length error shows in the length alone."""
    lo, hi = frame.box[2 * along], frame.box[2 * along + 1]
    return [lo + (i + 0.5) / n * (hi - lo) for i in range(n)]


def _view_report(name: str, blueprint: Blueprint, drawn: _Frame, rendered: _Frame, length_axis: str,
                 iou: float, parts: int) -> PlanViewReport:
    view = blueprint.views[name].view
    axes = VIEW_AXES[view]
    along = axes.index(length_axis) if length_axis in axes else 0
    stations = _stations(drawn, along, blueprint.stations)
    spans_d, spans_r = drawn.bands(along, blueprint.stations), rendered.bands(along, blueprint.stations)
    if view == "top":
        profile = {"half_breadth": [(b - a) / 2 for a, b in spans_d]}
        residual = {"half_breadth": [(rb - ra) / 2 - (db - da) / 2 for (ra, rb), (da, db) in zip(spans_r, spans_d)]}
    else:
        profile = {"top": [b for _, b in spans_d], "bottom": [a for a, _ in spans_d]}
        residual = {"top": [r[1] - d[1] for r, d in zip(spans_r, spans_d)],
                    "bottom": [r[0] - d[0] for r, d in zip(spans_r, spans_d)]}
    extent = {axes[k]: drawn.extent(k) for k in (0, 1)}
    extent_residual = {axes[k]: rendered.extent(k) - drawn.extent(k) for k in (0, 1)}
    errors = [abs(v) for values in residual.values() for v in values] + [abs(v) for v in extent_residual.values()]
    agreement = math.exp(-float(np.mean(errors)) / (PROFILE_SCALE * blueprint.span_m))
    return PlanViewReport(view=name, iou=iou, extent_m=extent, extent_residual_m=extent_residual, station_m=stations,
                          profile=profile, profile_residual_m=residual, profile_agreement=agreement,
                          score=(iou + agreement) / 2, parts=parts)


def _overall(blueprint: Blueprint, reports: dict[str, PlanViewReport], length_axis: str) -> tuple[dict[str, float], dict[str, float]]:
    names = {length_axis: "length", ("y" if length_axis == "x" else "x"): "beam", "z": "height"}
    drawn: dict[str, list[float]] = {}
    diff: dict[str, list[float]] = {}
    for r in reports.values():
        for axis, value in r.extent_m.items():
            drawn.setdefault(names[axis], []).append(value)
            diff.setdefault(names[axis], []).append(r.extent_residual_m[axis])
    order = [k for k in ("length", "beam", "height") if k in drawn]
    return {k: float(np.mean(drawn[k])) for k in order}, {k: float(np.mean(diff[k])) for k in order}


def _directions(blueprint: Blueprint, report: BlueprintReport) -> list[str]:
    span = blueprint.span_m
    found: list[tuple[float, str]] = []
    for key, d in report.overall_residual_m.items():
        size = report.overall_m[key]
        word = {"length": ("long", "short"), "beam": ("wide", "narrow"), "height": ("tall", "low")}[key]
        pct = f" ({abs(d) / size:.0%})" if size > 0 else ""
        found.append((abs(d), f"the overall {key} is {abs(d):.2f} m{pct} too {word[0] if d > 0 else word[1]}"))
    for name, r in report.views.items():
        for profile, values in r.profile_residual_m.items():
            for i, d in enumerate(values):
                where = f"at station {i + 1} of {len(values)} ({r.station_m[i]:+.2f} m)"
                if profile == "half_breadth":
                    text = f"{name}: the half-breadth is {abs(d):.2f} m too {'wide' if d > 0 else 'narrow'} {where}"
                else:
                    text = f"{name}: the {profile} is {abs(d):.2f} m too {'high' if d > 0 else 'low'} {where}"
                found.append((abs(d) * 0.99, text))  # an overall difference is said before the station that shows it
    found.sort(key=lambda t: -t[0])
    return [text for size, text in found[:MAX_DIRECTIONS] if size >= DIRECTION_MIN * span]


def measure_blueprint(blueprint: Blueprint, renders: dict[str, LoadedImage]) -> BlueprintReport:
    """Every drawing against its plan render (`plan_<view>`, RGBA); BadImageError names what is missing."""
    started = time.perf_counter()
    drawn: dict[str, _Frame] = {}
    rendered: dict[str, _Frame] = {}
    ious: dict[str, float] = {}
    parts: dict[str, int] = {}
    for name, view in sorted(blueprint.views.items()):
        image = renders.get(plan_name(name))
        if image is None:
            raise BadImageError(f"blueprint.{name}: no render named {plan_name(name)!r} (the camera pack renders it "
                                "when the render settings carry the task's plan cameras)")
        if image.alpha is None:
            raise BadImageError(f"{plan_name(name)}: the render has no alpha channel; a plan render is RGBA on a "
                                "transparent film")
        drawing = drawing_of(view)
        s = view.pixel_m(blueprint.span_m)
        drawn[name] = _Frame(drawing.mask, -view.origin_px[0] * s, view.origin_px[1] * s, s * drawing.scale)
        (cx, cy), pm = view.centre(blueprint.span_m), blueprint.span_m / image.width
        rendered[name] = _Frame(image.alpha >= 128, cx - image.width / 2 * pm, cy + image.height / 2 * pm, pm)
        ious[name], parts[name] = _iou(drawn[name], rendered[name]), drawing.parts
    length_axis = _length_axis(blueprint, drawn)
    reports = {name: _view_report(name, blueprint, drawn[name], rendered[name], length_axis, ious[name], parts[name])
               for name in drawn}
    overall, overall_residual = _overall(blueprint, reports, length_axis)
    span = blueprint.span_m
    vector = [d / span for d in overall_residual.values()]
    for r in reports.values():
        vector += [d / span for d in r.extent_residual_m.values()]  # IoU stays out: it saturates, a poor slope
        vector += [d / span for values in r.profile_residual_m.values() for d in values]
    report = BlueprintReport(span_m=span, views=reports, overall_m=overall, overall_residual_m=overall_residual,
                             score=float(np.mean([r.score for r in reports.values()])), vector=vector)
    report.directions = _directions(blueprint, report)
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    return report

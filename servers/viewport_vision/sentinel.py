"""Gross failures found without a model (§3.4.0.1), each mapped to a corrective tool (VIS-06).

From the pixels of each view: blank or near-uniform frame, subject clipped by the border (from the
worker's measurement of the render when it lies beside it: the scene knows what the subject is), too
small or far off-centre, too dark or overexposed. From the scene facts (SceneInfo): objects below
the ground or floating, far from the origin, absurd scale, non-manifold edges, missing materials. Evaluators only
report; the builder decides what to do (`suggested_tool` names what would fix it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import cv2
import numpy as np
from pydantic import BaseModel, Field

from harness.measure_types import Box
from harness.scene_types import ObjectSummary, SceneInfo
from harness.vision_types import SentinelIssue, SentinelReport, Severity, ViewStats
from servers.viewport_vision.images import LoadedImage, MapViews
from servers.viewport_vision.side_files import side_measure
from servers.viewport_vision.silhouette import grey, subject

__all__ = ["SentinelThresholds", "CORRECTIVE_TOOLS", "sentinel_check", "view_stats", "scene_issues"]

# VIS-06: issue category → (tool, arguments template). Render-side fixes name worker tools.
CORRECTIVE_TOOLS: dict[str, tuple[str, dict[str, object]]] = {
    "blank": ("render_pack", {"framing": "auto"}),
    "clipped": ("render_pack", {"framing": "auto", "hint": "or increase the camera distance"}),
    "too_small": ("render_pack", {"framing": "auto", "hint": "or decrease the camera distance"}),
    "off_centre": ("render_pack", {"framing": "auto", "hint": "or move the camera target onto the subject"}),
    "too_dark": ("execute_code", {"hint": "add or strengthen lights / world strength"}),
    "overexposed": ("execute_code", {"hint": "lower light energy or exposure"}),
    "floating": ("transform_to_floor", {}),
    "below_ground": ("transform_to_floor", {}),
    "absurd_scale": ("normalize_scale", {}),
    "far_from_origin": ("execute_code", {"hint": "move the object back near the origin (obj.location)"}),
    "non_manifold": ("execute_code", {"hint": "merge by distance, fill holes, recalculate normals (bmesh)"}),
    "missing_material": ("execute_code", {"hint": "create a material and append it to obj.data.materials"}),
}

_CONTACT = np.ones((5, 5), np.uint8)  # a part within 2 px of the floor touches it
_GEOMETRY_TYPES = {"MESH", "CURVE", "SURFACE", "META", "FONT", "CURVES", "POINTCLOUD", "VOLUME"}


class SentinelThresholds(BaseModel):
    """Every limit the checks use; defaults suit 128–1024 px preview renders in metres."""

    background_tolerance: float = Field(0.08, gt=0, lt=1, description="max per-channel distance to a background colour")
    blank_std: float = Field(0.003, ge=0, description="luma std below this: near-uniform frame")
    min_coverage: float = Field(0.005, ge=0, le=1, description="subject below this share of the frame: too small")
    min_extent: float = Field(0.10, ge=0, le=1, description="subject bbox longest side below this share of the frame: too small")
    clip_min_pixels: int = Field(2, ge=1, description="subject pixels on a frame edge that count as clipped")
    max_centre_offset: float = Field(0.45, gt=0, description="subject centre offset / half diagonal above this: off-centre")
    dark_luma: float = Field(0.08, ge=0, le=1, description="mean luma of the subject (or frame) below this: too dark")
    overexposed_fraction: float = Field(0.5, ge=0, le=1, description="share of subject pixels with luma > 0.98 above this")
    floor_gap: float = Field(0.02, gt=0, le=1, description="sky between the subject and the floor below it, as a "
                                                         "share of the frame height, above this: floating")
    ground_tolerance: float = Field(0.01, ge=0, description="scene units; bbox min z within this of the support counts as resting")
    max_dimension: float = Field(1000.0, gt=0, description="object longest side in metres above this: absurd scale")
    min_dimension: float = Field(0.001, ge=0, description="object longest side in metres below this: absurd scale")
    max_origin_distance: float = Field(100.0, gt=0, description="object bbox centre further than this from the origin "
                                                                "(metres): far from origin")


def sentinel_check(
    images: Mapping[str, LoadedImage],
    scene_info: SceneInfo | None = None,
    thresholds: SentinelThresholds | None = None,
    map_views: MapViews = map,
) -> SentinelReport:
    """`map_views` may run the per-view work in parallel (the server passes a thread pool's map)."""
    started = time.perf_counter()
    t = thresholds or SentinelThresholds()
    issues: list[SentinelIssue] = []
    # a ground plane seen edge-on crosses the frame; only when the scene has none is such a band a subject
    floor_bands = scene_info is None or any(_is_floor(o, t) for o in scene_info.objects)
    stats = dict(zip(images, map_views(lambda image: view_stats(image, t, floor_bands), images.values())))
    for view, view_stat in stats.items():
        issues.extend(_view_issues(view, view_stat, t))
    if scene_info is not None:
        scene = scene_issues(scene_info, t)
        if not any(i.category == "floating" for i in scene):  # the scene knows exactly what rests on what: a gap
            issues = [i for i in issues if i.category != "floating"]  # in pixels is a part the silhouette missed
        issues.extend(scene)
    return SentinelReport(
        issues=issues,
        views=stats,
        passed=not any(i.severity == "error" for i in issues),
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


def view_stats(image: LoadedImage, t: SentinelThresholds, floor_bands: bool = True) -> ViewStats:
    rgb = image.rgb
    h, w = rgb.shape[:2]
    luma = grey(image)
    sil = subject(image, t.background_tolerance, floor_bands)
    mask = sil.mask
    mean, std = cv2.meanStdDev(luma)
    stats = ViewStats(
        width=w,
        height=h,
        mean_luma=float(mean[0, 0]) / 255,
        std_luma=float(std[0, 0]) / 255,
        dark_fraction=float(np.count_nonzero(luma < 13)) / luma.size,
        bright_fraction=float(np.count_nonzero(luma > 242)) / luma.size,
        background_rgb=tuple(float(c) / 255 for c in sil.background[0]),
        coverage=sil.coverage,
    )
    if stats.coverage > 0:
        x0, y0, bw, bh = cv2.boundingRect(mask.view(np.uint8))
        x1, y1 = x0 + bw, y0 + bh
        stats.bbox = (x0, y0, x1, y1)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        stats.centre_offset = math.hypot(cx - w / 2, cy - h / 2) / (math.hypot(w, h) / 2)
        edges = {"top": mask[0], "bottom": mask[-1], "left": mask[:, 0], "right": mask[:, -1]}
        measured = side_measure(image)
        stats.touches_border = _cut_edges(measured.subject, w, h) if measured is not None else \
            [e for e, line in edges.items() if int(np.count_nonzero(line)) >= t.clip_min_pixels]
        pixels = luma[mask]
        stats.subject_luma = float(pixels.mean()) / 255
        stats.subject_bright_fraction = float(np.count_nonzero(pixels > 250)) / pixels.size
        stats.floor_gap = _floor_gap(mask, sil.floor, max(4, int(0.001 * h * w)))
    return stats


def _floor_gap(mask: np.ndarray, floor: np.ndarray | None, min_area: int) -> float | None:
    """Largest run of sky between a subject part that touches no floor and the floor visible below it.

    Conservative: a part touching the floor anywhere (legs of a table, or floor seen around it from
    above) is grounded; a view without both sky and floor says nothing.
    """
    if floor is None:
        return None
    count, labels, boxes, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    near_floor = cv2.dilate(floor.astype(np.uint8), _CONTACT) > 0
    worst: float | None = None
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in boxes[i])
        if area < min_area:
            continue
        part = labels[y:y + h, x:x + w] == i
        if (near_floor[y:y + h, x:x + w] & part).any():
            continue
        rows = np.flatnonzero(floor[y + h:, x:x + w].any(axis=1))
        if rows.size:
            worst = max(worst or 0.0, (int(rows[0]) + 1) / mask.shape[0])
    return worst


def _view_issues(view: str, s: ViewStats, t: SentinelThresholds) -> list[SentinelIssue]:
    out: list[SentinelIssue] = []

    def add(category: str, severity: Severity, message: str, value: float, threshold: float) -> None:
        tool, args = CORRECTIVE_TOOLS[category]
        out.append(SentinelIssue(category=category, severity=severity, message=message, view=view,
                                 value=value, threshold=threshold, suggested_tool=tool, suggested_args=dict(args)))

    if s.std_luma < t.blank_std or s.coverage == 0:
        add("blank", "error", f"{view}: the frame is near-uniform (luma std {s.std_luma:.4f}, subject covers "
            f"{s.coverage:.2%}); nothing visible", s.std_luma, t.blank_std)
    else:
        if s.touches_border:
            add("clipped", "error", f"{view}: the subject is cut by the frame ({', '.join(s.touches_border)} edge)",
                float(len(s.touches_border)), float(t.clip_min_pixels))
        extent = 0.0 if s.bbox is None else max((s.bbox[2] - s.bbox[0]) / s.width, (s.bbox[3] - s.bbox[1]) / s.height)
        if s.coverage < t.min_coverage or extent < t.min_extent:
            add("too_small", "warning", f"{view}: the subject is too small in frame (covers {s.coverage:.2%}, "
                f"spans {extent:.0%} of the frame)", extent, t.min_extent)
        if s.centre_offset is not None and s.centre_offset > t.max_centre_offset and not s.touches_border:
            add("off_centre", "warning", f"{view}: the subject is far off-centre (offset {s.centre_offset:.2f} "
                "of the half diagonal)", s.centre_offset, t.max_centre_offset)
    if s.floor_gap is not None and s.floor_gap > t.floor_gap:
        add("floating", "error", f"{view}: the subject hangs above the floor with sky under it (gap "
            f"{s.floor_gap:.0%} of the frame height)", s.floor_gap, t.floor_gap)
    luma = s.subject_luma if s.subject_luma is not None and s.coverage >= t.min_coverage else s.mean_luma
    if luma < t.dark_luma:
        add("too_dark", "warning", f"{view}: too dark (mean luma {luma:.3f})", luma, t.dark_luma)
    bright = s.subject_bright_fraction if s.subject_bright_fraction is not None else s.bright_fraction
    if bright > t.overexposed_fraction:
        add("overexposed", "warning", f"{view}: overexposed ({bright:.0%} of the subject is clipped white)",
            bright, t.overexposed_fraction)
    return out


def _cut_edges(box: Box | None, w: int, h: int) -> list[str]:
    """The frame edges the scene's subject (`box`, the worker's measurement beside the render) reaches past by a
    pixel or more: a lit ground reaching the frame's edge is not the subject cut by it."""
    if box is None:
        return []
    dx, dy = 1 / w, 1 / h
    beyond = {"top": box.top > 1 + dy, "bottom": box.bottom < -dy, "left": box.left < -dx, "right": box.right > 1 + dx}
    return [edge for edge, cut in beyond.items() if cut]


def scene_issues(info: SceneInfo, t: SentinelThresholds) -> list[SentinelIssue]:
    """Checks on the scene facts; lengths are in scene units, scale limits in metres."""
    solids = [o for o in info.objects if o.type in _GEOMETRY_TYPES and o.visible]
    out: list[SentinelIssue] = []
    for o in solids:
        out.extend(_placement(o, solids, t))
        longest = max(o.dimensions) * info.unit_scale
        if longest > t.max_dimension or 0 < longest < t.min_dimension or longest == 0:
            limit = t.max_dimension if longest > t.max_dimension else t.min_dimension
            out.append(_scene_issue("absurd_scale", "error", o, f"{o.name} is {longest:g} m across", longest, limit))
        centre = [(o.bbox_min[i] + o.bbox_max[i]) / 2 * info.unit_scale for i in range(3)]
        if (distance := math.hypot(*centre)) > t.max_origin_distance:
            out.append(_scene_issue("far_from_origin", "warning", o, f"{o.name} is {distance:g} m from the origin",
                                    distance, t.max_origin_distance))
        if o.mesh is not None and o.mesh.non_manifold_edges > 0 and not _is_floor(o, t):  # a plane's rim is open by design
            out.append(_scene_issue("non_manifold", "warning", o, f"{o.name} has {o.mesh.non_manifold_edges} "
                                    "non-manifold edges", float(o.mesh.non_manifold_edges), 0.0))
        if o.type == "MESH" and not any(o.materials) and not _is_floor(o, t):
            out.append(_scene_issue("missing_material", "warning", o, f"{o.name} has no material", 0.0, 1.0))
    return out


def _placement(o: ObjectSummary, solids: list[ObjectSummary], t: SentinelThresholds) -> list[SentinelIssue]:
    bottom = o.bbox_min[2]
    if _is_floor(o, t):
        return []
    if bottom < -t.ground_tolerance:
        return [_scene_issue("below_ground", "error", o, f"{o.name} reaches {bottom:.3f} below the ground (z=0)",
                             bottom, -t.ground_tolerance)]
    if bottom <= t.ground_tolerance or any(_supports(p, o, t.ground_tolerance) for p in solids if p is not o):
        return []
    return [_scene_issue("floating", "error", o, f"{o.name} floats {bottom:.3f} above the ground with nothing "
                         "under it", bottom, t.ground_tolerance)]


def _is_floor(o: ObjectSummary, t: SentinelThresholds) -> bool:
    """A ground plane or slab: flat compared with its footprint, its top at z≈0."""
    if o.type != "MESH" or not o.visible:
        return False
    dx, dy, dz = (o.bbox_max[i] - o.bbox_min[i] for i in range(3))
    return dz <= 0.05 * min(dx, dy) and abs(o.bbox_max[2]) <= t.ground_tolerance


def _supports(p: ObjectSummary, o: ObjectSummary, tol: float) -> bool:
    """p is under o: their footprints overlap and p's top reaches o's bottom."""
    overlap_xy = all(p.bbox_min[i] <= o.bbox_max[i] + tol and o.bbox_min[i] <= p.bbox_max[i] + tol for i in (0, 1))
    return overlap_xy and p.bbox_min[2] < o.bbox_min[2] and p.bbox_max[2] >= o.bbox_min[2] - tol


def _scene_issue(category: str, severity: Severity, o: ObjectSummary, message: str, value: float, threshold: float) -> SentinelIssue:
    tool, args = CORRECTIVE_TOOLS[category]
    object_args: dict[str, object] = {}
    if tool == "transform_to_floor":
        object_args = {"names": [o.name]}
    elif tool == "normalize_scale":
        object_args = {"name": o.name, "size": 1.0}
    return SentinelIssue(category=category, severity=severity, message=message, object_name=o.name, value=value,
                         threshold=threshold, suggested_tool=tool, suggested_args={**args, **object_args})

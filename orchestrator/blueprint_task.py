"""A task's [blueprint] table → a validated Blueprint (DESIGN.md "Blueprints").

Every drawing is read here, once, so what would make the run useless is an error before it
starts, naming the key: span_m missing or not positive, an unknown view, an unreadable, empty or
oversized image, an outline that cannot be closed, line work on every border (wrong span), and a
view that has a perspective reference as well.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from harness.blueprint_drawing import DrawingError, load_drawing, read_drawing
from harness.blueprint_types import BLUEPRINT_VIEWS, Blueprint, BlueprintView
from orchestrator.errors import TaskError

__all__ = ["load_blueprint", "blueprint_table"]

ImageResolver = Callable[[str, str], Path]  # (field, value as written) → an existing file
_VIEW_KEYS = {"image", "origin_px"}


def _fail(where: str, key: str, message: str) -> TaskError:
    return TaskError(f"{where}: blueprint.{key}: {message}")


def _span(raw: dict[str, Any], where: str) -> float:
    if "span_m" not in raw:
        raise _fail(where, "span_m", "required: the real length, in metres, that the full width of each drawing covers")
    span = raw["span_m"]
    if isinstance(span, bool) or not isinstance(span, (int, float)) or not math.isfinite(span):
        raise _fail(where, "span_m", f"must be a number of metres, got {span!r}")
    if span <= 0:
        raise _fail(where, "span_m", f"must be > 0 (metres the drawing's width covers), got {span}")
    return float(span)


def _origin(value: Any, where: str, view: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
        raise _fail(where, f"{view}.origin_px", f"must be [x, y] in pixels of the drawing, got {value!r}")
    return float(value[0]), float(value[1])


def _view(view: str, entry: Any, where: str, resolve: ImageResolver) -> BlueprintView:
    if isinstance(entry, str):
        entry = {"image": entry}
    if not isinstance(entry, dict):
        raise _fail(where, view, "must be an image (path or base64) or a table with `image` and `origin_px`")
    if unknown := sorted(set(entry) - _VIEW_KEYS):
        raise _fail(where, f"{view}.{unknown[0]}", f"unknown key; a view table takes {', '.join(sorted(_VIEW_KEYS))}")
    if not isinstance(entry.get("image"), str) or not entry["image"]:
        raise _fail(where, f"{view}.image", "required: the drawing, a path or base64 PNG/JPEG")
    path = resolve(f"blueprint.{view}", entry["image"])
    try:
        grey = load_drawing(path)
        read_drawing(grey)
    except DrawingError as e:
        raise _fail(where, view, str(e)) from None
    h, w = grey.shape
    default = (w / 2, h / 2) if view == "top" else (w / 2, float(h))
    return BlueprintView(view=view, image=path, size_px=(w, h), origin_px=_origin(entry.get("origin_px"), where, view) or default)


def load_blueprint(raw: Any, where: str, resolve: ImageResolver, references: Collection[str]) -> Blueprint | None:
    """The [blueprint] table validated and its drawings read; None when the task has none."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise TaskError(f"{where}: blueprint: must be a table (span_m and front/side/top drawings)")
    span = _span(raw, where)
    stations = raw.get("stations", 10)
    if isinstance(stations, bool) or not isinstance(stations, int) or not 2 <= stations <= 100:
        raise _fail(where, "stations", f"must be a whole number 2..100, got {stations!r}")
    views: dict[str, BlueprintView] = {}
    for key, entry in raw.items():
        if key in ("span_m", "stations"):
            continue
        if key not in BLUEPRINT_VIEWS:
            raise _fail(where, key, f"unknown view; a blueprint view is one of {', '.join(BLUEPRINT_VIEWS)}")
        if key in references:
            raise _fail(where, key, f"view {key!r} has a perspective reference too (reference.{key}): a view is "
                                    "compared with a plan or with a render through the task's camera, not both")
        views[key] = _view(key, entry, where, resolve)
    if not views:
        raise TaskError(f"{where}: blueprint: no drawing given; add front, side and/or top")
    return Blueprint(span_m=span, stations=stations, views=views)


def blueprint_table(blueprint: Blueprint, images: dict[str, str]) -> dict[str, Any]:
    """The table as a task file holds it, with the drawings at the given relative paths."""
    return {"span_m": blueprint.span_m, "stations": blueprint.stations,
            **{view: {"image": images[view], "origin_px": list(v.origin_px)} for view, v in blueprint.views.items()}}

"""Draw the hull task's plans from its truth.py: the side elevation and the top plan as line work.

Blender renders each object of the truth alone through the plan camera (the camera pack's own
orthographic views, servers/blender_primary/plan_views.py); each object's silhouette outline is
drawn black on white, so the lines between the hull, the superstructure and the funnel are real
part lines. A title, a centre line and dimension lines are added as real plans carry them (with
the customary gap between an extension line and the outline).

    python examples/tasks/hull/make_plans.py [--truth truth.py] [--out plans] [--width 2048]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

SPAN_M = 30.0
HEIGHT_M = {"side": 14.0, "top": 30.0}  # what each drawing's height covers
LINE = 3  # px at 2048 wide
INK = 0


def render_masks(truth: Path, width: int) -> dict[str, dict[str, np.ndarray]]:
    """Per view, per object, the object's silhouette through the plan camera (bool, H×W)."""
    import bpy

    from harness.blueprint_types import Blueprint, BlueprintView
    from harness.scene_types import RenderSettings
    from servers.blender_primary.render import render_views

    bpy.ops.wm.read_factory_settings(use_empty=True)
    exec(compile(truth.read_text(encoding="utf-8"), str(truth), "exec"), {"__name__": "__truth__"})
    views = {v: BlueprintView(view=v, image=truth, size_px=(width, round(width * HEIGHT_M[v] / SPAN_M)),
                              origin_px=(width / 2, round(width * HEIGHT_M[v] / SPAN_M) / (2 if v == "top" else 1)))
             for v in ("side", "top")}
    cameras = Blueprint(span_m=SPAN_M, views=views).cameras(long_side=width)
    names = [o.name for o in bpy.context.scene.objects if o.type == "MESH"]
    out: dict[str, dict[str, np.ndarray]] = {v: {} for v in views}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            pack = render_views(RenderSettings(views=[], plans=cameras, focus_objects=[name], isolate=True), Path(tmp) / name)
            for cam in cameras:
                rgba = cv2.imread(pack.views[cam.name].path, cv2.IMREAD_UNCHANGED)
                out[cam.view][name] = rgba[:, :, 3] >= 128
    return out


def _metres(view: str, width: int, height: int):
    s = SPAN_M / width
    oy = height / 2 if view == "top" else height
    return lambda r, u: (int(round(width / 2 + r / s)), int(round(oy - u / s)))


def _arrow_line(img: np.ndarray, a: tuple[int, int], b: tuple[int, int], label: str) -> None:
    cv2.arrowedLine(img, a, b, INK, 1, cv2.LINE_AA, tipLength=0.02)
    cv2.arrowedLine(img, b, a, INK, 1, cv2.LINE_AA, tipLength=0.02)
    mid = ((a[0] + b[0]) // 2 + 8, (a[1] + b[1]) // 2 - 8)
    cv2.putText(img, label, mid, cv2.FONT_HERSHEY_SIMPLEX, 0.9, INK, 2, cv2.LINE_AA)


def draw(view: str, masks: dict[str, np.ndarray], title: str) -> np.ndarray:
    h, w = next(iter(masks.values())).shape
    img = np.full((h, w), 255, np.uint8)
    for mask in masks.values():
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(img, contours, -1, INK, LINE)
    at = _metres(view, w, h)
    union = np.any(list(masks.values()), axis=0)
    ys, xs = np.nonzero(union)
    s = SPAN_M / w
    left, right = (xs.min() - w / 2) * s, (xs.max() + 1 - w / 2) * s
    oy = h / 2 if view == "top" else h
    low, high = (oy - ys.max() - 1) * s, (oy - ys.min()) * s
    gap = 0.6  # m between an extension line and the outline
    if view == "side":  # overall length above, height to the right
        y_dim = high + 1.2
        for r in (left, right):
            cv2.line(img, at(r, high + gap), at(r, y_dim + 0.4), INK, 1)
        _arrow_line(img, at(left, y_dim), at(right, y_dim), f"{right - left:.1f} m")
        x_dim = right + 1.5
        cv2.line(img, at(right + gap, high), at(x_dim + 0.4, high), INK, 1)
        _arrow_line(img, at(x_dim, 0.0), at(x_dim, high), f"{high:.1f} m")
    else:  # centre line along the length, beam below, length to the right
        y = low - 1.5
        while y < high + 1.5:  # dash-dot
            cv2.line(img, at(0.0, y), at(0.0, min(y + 1.2, high + 1.5)), INK, 1)
            cv2.line(img, at(0.0, y + 1.5), at(0.0, y + 1.6), INK, 1)
            y += 1.9
        beam_l, beam_r = left, right
        for r in (beam_l, beam_r):
            cv2.line(img, at(r, low + 1.0), at(r, low - 1.6), INK, 1)
        _arrow_line(img, at(beam_l, low - 1.2), at(beam_r, low - 1.2), f"{beam_r - beam_l:.1f} m")
        x_dim = right + 2.0
        cv2.line(img, at(right + gap, low), at(x_dim + 0.4, low), INK, 1)
        cv2.line(img, at(gap, high), at(x_dim + 0.4, high), INK, 1)
        _arrow_line(img, at(x_dim, low), at(x_dim, high), f"{high - low:.1f} m")
    cv2.putText(img, title, (40, 70), cv2.FONT_HERSHEY_SIMPLEX, 1.6, INK, 3, cv2.LINE_AA)
    cv2.putText(img, f"span {SPAN_M:.0f} m across the sheet", (40, 115), cv2.FONT_HERSHEY_SIMPLEX, 0.9, INK, 2, cv2.LINE_AA)
    return img


def make_plans(truth: Path, out: Path, width: int = 2048) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    titles = {"side": "HULL - SIDE ELEVATION", "top": "HULL - TOP PLAN"}
    paths = {}
    for view, masks in render_masks(truth, width).items():
        path = out / f"{view}.png"
        tmp = path.with_suffix(".tmp.png")
        cv2.imwrite(str(tmp), draw(view, masks, titles[view]))
        tmp.replace(path)
        paths[view] = path
    return paths


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truth", type=Path, default=here / "truth.py")
    parser.add_argument("--out", type=Path, default=here / "plans")
    parser.add_argument("--width", type=int, default=2048)
    args = parser.parse_args()
    for view, path in make_plans(args.truth, args.out, args.width).items():
        print(view, path)

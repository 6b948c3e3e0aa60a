"""Measured residuals of one render against its reference (VIS-05): signed, named, physical.

Where the scalar score says "how far", these say "which way": the subject's silhouette box
edges, centroid, area and aspect, and its colour in CIELAB with ΔE2000. Every value is
render − reference (ratios: render ÷ reference), in image fractions with x to the right and
y UP, so `top = +0.05` reads "the render's top edge sits 5 % of the frame height higher".

- The subject is the foreground mask the metrics already use (servers.viewport_vision.silhouette).
- Colour is the mean CIELAB (D65, sRGB input, OpenCV's conversion) of each image's own subject,
  eroded by one pixel so anti-aliased rims, half background, do not tint it; a subject too thin
  to erode keeps its rim. ΔE2000 is Sharma, Wu and Dalal's (2005) formulation.
- The `_in_place` colour differences average the render over the reference subject's pixels
  instead of its own: a grey block on a grey floor is found only in part, and the mean of
  whichever part was found jumps as the block changes, while the colour in place moves smoothly.
  The search fits both (with in place alone, a thin subject misplaced reads as background).
- Parts: the subject's largest connected components, matched to the reference's by position
  and area (the assignment of least total centroid distance and log-area difference), each with
  its own box and colour (a table's top and legs, a lamp's pole and shade).
- Profile: the subject's left and right edges per height band (harness.profiles), render −
  reference: the parts of one connected silhouette (three touching balls, a lamp's shade on its
  pole) each get residuals of their own. With the
  scene, the render's profile is the scene's, rasterised beyond the frame where the subject
  reaches past it (the same numbers a probe measures without rendering).
- With the worker's measurement of the render (`scene`), the render's subject is the scene's
  exact mask and its box is not clipped by the frame (a subject wider than the frame keeps a
  size and a gradient; one entirely outside the frame still says which way back).

The numbers are a pure function of the two images: the same images give the same residuals.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from scipy.optimize import linear_sum_assignment

from harness.measure_types import Box, ViewMeasure
from harness.profiles import image_profile
from harness.residuals import PartResiduals, ViewResiduals, geometry_residuals, profile_residuals
from servers.viewport_vision.images import LoadedImage

__all__ = ["view_residuals", "ciede2000", "subject_lab", "mask_box"]

_Lab = tuple[float, float, float] | None

_ERODE = np.ones((3, 3), np.uint8)
_MIN_COLOUR_PIXELS = 12
MAX_PARTS = 4
_MIN_PART_SHARE = 0.02  # a part covers at least this share of its subject


def ciede2000(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    """ΔE2000 between two CIELAB colours (kL = kC = kH = 1)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dl, dc = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        dh = 0.0
    elif abs(h2p - h1p) <= 180:
        dh = h2p - h1p
    else:
        dh = h2p - h1p - 360 if h2p > h1p else h2p - h1p + 360
    big_dh = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_bar, cp_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_bar - 30)) + 0.24 * math.cos(math.radians(2 * h_bar))
         + 0.32 * math.cos(math.radians(3 * h_bar + 6)) - 0.20 * math.cos(math.radians(4 * h_bar - 63)))
    d_theta = 30 * math.exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * cp_bar, 1 + 0.015 * cp_bar * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    tl, tc, th = dl / s_l, dc / s_c, big_dh / s_h
    return math.sqrt(max(0.0, tl * tl + tc * tc + th * th + r_t * tc * th))


def _window(mask: np.ndarray, margin: int = 0) -> tuple[slice, slice]:
    """The rows and columns of the mask's bounding box, `margin` pixels wider within the frame: the work of
    subject_lab and mask_box happens there (a subject covers a small part of the frame), on the same pixels
    in the same order as over the whole frame."""
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8) if mask.dtype == bool else mask)
    return (slice(max(0, y - margin), min(mask.shape[0], y + h + margin)),
            slice(max(0, x - margin), min(mask.shape[1], x + w + margin)))


def subject_lab(rgb: np.ndarray, mask: np.ndarray) -> tuple[float, float, float] | None:
    """Mean CIELAB of the masked pixels, rim eroded away when enough is left; None for an empty mask."""
    rows, cols = _window(mask, margin=1)  # a pixel of background around it: the erosion sees what it would
    rgb, mask = rgb[rows, cols], mask[rows, cols]
    inner = cv2.erode(mask.astype(np.uint8), _ERODE) > 0
    region = inner if np.count_nonzero(inner) >= _MIN_COLOUR_PIXELS else mask
    if not region.any():
        return None
    pixels = (rgb[region].astype(np.float32) / 255.0).reshape(-1, 1, 3)
    lab = cv2.cvtColor(pixels, cv2.COLOR_RGB2Lab).reshape(-1, 3).mean(axis=0)
    return float(lab[0]), float(lab[1]), float(lab[2])


def mask_box(mask: np.ndarray) -> Box:
    """Box, centroid and area of a (non-empty) mask in image fractions, y up."""
    h, w = mask.shape
    rows, cols = _window(mask)
    ys, xs = np.nonzero(mask[rows, cols])
    ys, xs = ys + rows.start, xs + cols.start
    return Box(left=xs.min() / w, right=(xs.max() + 1) / w, top=1 - ys.min() / h, bottom=1 - (ys.max() + 1) / h,
               cx=(xs.mean() + 0.5) / w, cy=1 - (ys.mean() + 0.5) / h, area=len(xs) / (h * w))


def _colour(render_lab: tuple[float, float, float] | None,
            ref_lab: tuple[float, float, float] | None) -> dict[str, float | None]:
    if render_lab is None or ref_lab is None:
        return {"dL": None, "da": None, "db": None, "dE2000": None}
    return {"dL": render_lab[0] - ref_lab[0], "da": render_lab[1] - ref_lab[1], "db": render_lab[2] - ref_lab[2],
            "dE2000": ciede2000(render_lab, ref_lab)}


def _parts(mask: np.ndarray) -> list[np.ndarray]:
    """The mask's largest connected components (8-neighbourhood), biggest first; a mask in one piece is its
    own only part (the same array: its measurements are the whole's)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count == 2:
        return [mask]
    total = max(1, int(np.count_nonzero(mask)))
    order = sorted(range(1, count), key=lambda i: (-stats[i, cv2.CC_STAT_AREA], stats[i, cv2.CC_STAT_LEFT]))
    return [labels == i for i in order[:MAX_PARTS] if stats[i, cv2.CC_STAT_AREA] / total >= _MIN_PART_SHARE]


def _matched(got: list[tuple[Box, _Lab]], ref: list[tuple[Box, _Lab]]) -> list[tuple[int, int]]:
    """Pairs (render part, reference part) matched by position and area (fewest total cost), in reference order."""
    if not got or not ref:
        return []
    cost = np.array([[math.hypot(a.cx - b.cx, a.cy - b.cy) + 0.25 * abs(math.log(max(a.area, 1e-6) / max(b.area, 1e-6)))
                      for b, _ in ref] for a, _ in got])
    rows, cols = linear_sum_assignment(cost)
    return sorted(zip(rows.tolist(), cols.tolist()), key=lambda p: p[1])


class _Measured:
    """One image's subject: its shape and colour, and those of its parts (largest first)."""

    def __init__(self, rgb: np.ndarray, mask: np.ndarray, scene: ViewMeasure | None = None) -> None:
        self.shape = scene.subject if scene is not None and scene.subject is not None else mask_box(mask)
        self.lab = subject_lab(rgb, mask)
        self.parts = [(mask_box(part), self.lab if part is mask else subject_lab(rgb, part)) for part in _parts(mask)]
        self.profile = scene.profile if scene is not None and scene.profile is not None else image_profile(mask)


def view_residuals(render: LoadedImage, reference: LoadedImage, mask: np.ndarray, ref_mask: np.ndarray,
                   ref_key: object = None, scene: ViewMeasure | None = None, note: str | None = None) -> ViewResiduals:
    """Residuals of one view; `reference` already has the render's size, masks are their subjects.
    With `ref_key` (what the reference mask was made with), the reference's measurements are kept
    with it: a reference is compared every iteration. With `scene` (the worker's measurement of the
    render), the render's outline is the scene's, not clipped by the frame."""
    how = {"measured_by": "scene" if scene is not None else "pixels", "note": note,
           "frame_width_m": scene.frame_width_m if scene is not None else None}
    if not ref_mask.any():
        return ViewResiduals(status="no_subject_in_reference" if mask.any() else "no_subject", **how)
    ref = reference.memo(("measured", ref_key), lambda: _Measured(reference.rgb, ref_mask)) if ref_key is not None \
        else _Measured(reference.rgb, ref_mask)
    how["reference_box"], how["reference_profile"] = ref.shape, ref.profile
    colour = _colour(subject_lab(render.rgb, ref_mask), ref.lab)
    in_place = {"dL_in_place": colour["dL"], "da_in_place": colour["da"], "db_in_place": colour["db"]}
    outline = scene.subject if scene is not None else None
    if not mask.any():
        if outline is not None:  # outside the frame: the scene still knows where, and which way back
            why = ("the subject lies entirely outside the frame" if not outline.in_frame
                   else "the subject does not differ from the background behind it")
            how["note"] = "; ".join(filter(None, [note, why]))
            return ViewResiduals(status="ok", reference_area=ref.shape.area, reference_width=ref.shape.width,
                                 **geometry_residuals(outline, ref.shape), **in_place, **how)
        return ViewResiduals(status="no_subject_in_render", reference_area=ref.shape.area, **in_place, **how)
    got = _Measured(render.rgb, mask, scene)
    parts = [] if max(len(got.parts), len(ref.parts)) < 2 else [
        PartResiduals(index=j, **geometry_residuals(got.parts[i][0], ref.parts[j][0]),
                      **_colour(got.parts[i][1], ref.parts[j][1]))
        for i, j in _matched(got.parts, ref.parts)]
    return ViewResiduals(status="ok", reference_area=ref.shape.area, reference_width=ref.shape.width,
                         **geometry_residuals(got.shape, ref.shape), **_colour(got.lab, ref.lab), parts=parts,
                         profile=profile_residuals(got.profile, ref.profile), **in_place, **how)

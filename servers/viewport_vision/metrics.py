"""How close renders are to reference images: per view, their mean, one combined score.

Metrics (one render against one reference, same size):
- pixel_loss: mean squared error over RGB in [0,1] (BlenderGym's definition).
- ssim: mean SSIM of the grey images (Gaussian window 11, σ 1.5, the usual constants).
- silhouette_iou: IoU of the subject masks (servers.viewport_vision.subject_masks: the scene's
  own for a render the worker measured, the reference's against its background render; else
  colour silhouettes); two empty masks count as identical (1.0).
- edge_distance: symmetric chamfer distance between Canny edge maps (3×3 blur, thresholds 20/60) — the mean distance from each
  edge pixel of one image to the nearest edge pixel of the other, averaged both ways — divided by
  the image diagonal; 0 when neither has edges, 1 when only one has.
- phash_distance: Hamming distance of the 64-bit DCT hashes.
- colour_delta_e: CIEDE2000 between the mean CIELAB colours of the two subjects, and with it the
  signed residuals of servers.viewport_vision.residuals (box, centroid, size, colour).
The combined score and its weights: harness.vision_types.ViewMetrics / COMBINED_WEIGHTS.

A reference of another size is resized to the render's size (area resampling when shrinking,
bilinear when enlarging) and flagged `resized_reference`; aspect ratios that differ by more than
2 % are an error, since stretching would invent a mismatch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import cv2
import numpy as np

from harness.residuals import describe_views
from harness.vision_types import COMBINED_WEIGHTS, CompareResult, ViewMetrics
from servers.viewport_vision.errors import CompareInputError
from servers.viewport_vision.images import LoadedImage, MapViews
from servers.viewport_vision.phash import hamming, phash_bits
from servers.viewport_vision.residuals import view_residuals
from servers.viewport_vision.silhouette import grey
from servers.viewport_vision.subject_masks import mask_overlay, subject_masks

__all__ = ["combined_score", "view_metrics", "compare_views", "ssim", "edge_distance"]

_PIXEL_SCALE = 0.02  # pixel term = exp(-pixel_loss / 0.02)
_EDGE_SCALE = 0.05  # edge term = exp(-edge_distance / 0.05)
_PHASH_SCALE = 32  # phash term = max(0, 1 - d / 32); unrelated images sit near 32
_COLOUR_SCALE = 10.0  # colour term = exp(-ΔE2000 / 10): ΔE 2 (barely visible) keeps 0.82, ΔE 20 keeps 0.14
_ASPECT_TOLERANCE = 0.02
_CANNY_LOW, _CANNY_HIGH = 20, 60


def combined_score(pixel_loss: float, ssim_value: float, iou: float, edge: float, phash_distance: float,
                   colour_delta_e: float | None) -> float:
    """`colour_delta_e` None: a subject on one side only scores colour 0 (on neither side, 1)."""
    terms = {
        "pixel": math.exp(-pixel_loss / _PIXEL_SCALE),
        "ssim": max(0.0, ssim_value),
        "silhouette_iou": iou,
        "edge": math.exp(-edge / _EDGE_SCALE),
        "phash": max(0.0, 1.0 - phash_distance / _PHASH_SCALE),
        "colour": math.exp(-colour_delta_e / _COLOUR_SCALE) if colour_delta_e is not None else float(iou == 1.0),
    }
    return round(min(1.0, max(0.0, sum(COMBINED_WEIGHTS[k] * v for k, v in terms.items()))), 6)


_C1, _C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def _blur(x: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(x, (11, 11), 1.5)


def _ssim_terms(image: LoadedImage) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One image's share of SSIM: grey as float, local mean, its square, local variance."""
    x = grey(image).astype(np.float32)
    mu = _blur(x)
    mu_sq = mu * mu
    return x, mu, mu_sq, _blur(x * x) - mu_sq


def ssim(render: LoadedImage, reference: LoadedImage) -> float:
    """Mean SSIM of the grey images (same size). The reference's share is kept with it (a reference
    is compared every iteration); a render's is not (it would only fill the image cache)."""
    xa, mu_a, mu_aa, var_a = _ssim_terms(render)
    xb, mu_b, mu_bb, var_b = reference.memo("ssim", lambda: _ssim_terms(reference))
    # (2 μa μb + C1)(2 cov + C2) / ((μa² + μb² + C1)(σa² + σb² + C2)), in place: 256² float32 temporaries cost more than the sums
    numerator = mu_a * mu_b
    cov = _blur(xa * xb)
    cov -= numerator
    numerator *= 2
    numerator += _C1
    cov *= 2
    cov += _C2
    numerator *= cov
    denominator = mu_aa + mu_bb
    denominator += _C1
    variances = var_a + var_b
    variances += _C2
    denominator *= variances
    numerator /= denominator
    return float(numerator.mean())


def _edges(image: LoadedImage) -> tuple[np.ndarray, np.ndarray]:
    """Canny edge map and its distance transform (distance of every pixel to the nearest edge)."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        # low thresholds: a grey object on a grey floor differs by ~15 levels in Workbench renders
        edges = cv2.Canny(cv2.GaussianBlur(grey(image), (3, 3), 0), _CANNY_LOW, _CANNY_HIGH)
        # distanceTransform measures the distance to the nearest zero pixel: zeros must be the edges
        return edges, cv2.distanceTransform(cv2.bitwise_not(edges), cv2.DIST_L2, 3)

    return image.memo("edges", compute)


def edge_distance(a: LoadedImage, b: LoadedImage) -> float:
    (edges_a, dist_to_a), (edges_b, dist_to_b) = _edges(a), _edges(b)
    has_a, has_b = bool(edges_a.any()), bool(edges_b.any())
    if not has_a and not has_b:
        return 0.0
    if not has_a or not has_b:
        return 1.0
    a_to_b = float(dist_to_b[edges_a > 0].mean())
    b_to_a = float(dist_to_a[edges_b > 0].mean())
    return min(1.0, (a_to_b + b_to_a) / 2 / math.hypot(a.height, a.width))


def view_metrics(render: LoadedImage, reference: LoadedImage, tolerance: float = 0.08) -> ViewMetrics:
    ref, resized = _fit_reference(render, reference)
    h, w = render.rgb.shape[:2]
    cells = [(render.rgb[y0:y1, x0:x1], ref.rgb[y0:y1, x0:x1])
             for y0, y1 in zip((0, h // 3, 2 * h // 3), (h // 3, 2 * h // 3, h))
             for x0, x1 in zip((0, w // 3, 2 * w // 3), (w // 3, 2 * w // 3, w))]
    squared = [cv2.norm(a, b, cv2.NORM_L2SQR) for a, b in cells]  # one pass: the grid and the whole image
    pixel_loss = sum(squared) / (render.rgb.size * 255.0 * 255.0)
    grid = [sq / (a.size * 255.0 * 255.0) for sq, (a, _) in zip(squared, cells)]
    mask, ref_mask, scene, note = subject_masks(render, reference, ref, tolerance)
    union = int(np.count_nonzero(mask | ref_mask))
    iou = 1.0 if union == 0 else int(np.count_nonzero(mask & ref_mask)) / union
    ssim_value = ssim(render, ref)
    edge = edge_distance(render, ref)
    phash_d = hamming(*(image.memo("phash", lambda image=image: phash_bits(grey(image))) for image in (render, ref)))
    residuals = view_residuals(render, ref, mask, ref_mask, ref_key=(tolerance, scene is not None), scene=scene, note=note)
    return ViewMetrics(
        pixel_loss=pixel_loss,
        ssim=ssim_value,
        silhouette_iou=iou,
        edge_distance=edge,
        phash_distance=phash_d,
        colour_delta_e=residuals.dE2000,
        pixel_loss_grid=[round(g, 6) for g in grid],
        score=combined_score(pixel_loss, ssim_value, iou, edge, phash_d, residuals.dE2000),
        resized_reference=resized,
        residuals=residuals,
        subject_masks=mask_overlay(mask, ref_mask),
    )


def compare_views(
    renders: Mapping[str, LoadedImage], references: Mapping[str, LoadedImage], tolerance: float = 0.08,
    map_views: MapViews = map,
) -> CompareResult:
    """Scores every view present on both sides; views on one side only are listed, not scored.
    `map_views` may score the views in parallel (the server passes a thread pool's map)."""
    started = time.perf_counter()
    common = [v for v in renders if v in references]
    if not common:
        raise CompareInputError(
            f"no view in common: renders have {sorted(renders)}, references have {sorted(references)}"
        )
    per_view = dict(zip(common, map_views(lambda v: view_metrics(renders[v], references[v], tolerance), common)))
    missing = sorted(set(renders) ^ set(references))
    return CompareResult(
        views=per_view,
        mean=_mean(list(per_view.values())),
        score=round(float(np.mean([m.score for m in per_view.values()])), 6),
        missing_references=missing,
        directions=describe_views({v: m.residuals for v, m in per_view.items() if m.residuals is not None}),
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


def _mean(items: list[ViewMetrics]) -> ViewMetrics:
    def avg(name: str) -> float:
        return float(np.mean([getattr(m, name) for m in items]))

    colours = [m.colour_delta_e for m in items if m.colour_delta_e is not None]
    return ViewMetrics(
        pixel_loss=avg("pixel_loss"),
        ssim=avg("ssim"),
        silhouette_iou=avg("silhouette_iou"),
        edge_distance=avg("edge_distance"),
        phash_distance=round(avg("phash_distance")),
        colour_delta_e=float(np.mean(colours)) if colours else None,
        score=round(avg("score"), 6),
        resized_reference=any(m.resized_reference for m in items),
    )


def _fit_reference(render: LoadedImage, reference: LoadedImage) -> tuple[LoadedImage, bool]:
    (h, w), (rh, rw) = render.rgb.shape[:2], reference.rgb.shape[:2]
    if (h, w) == (rh, rw):
        return reference, False
    aspect, ref_aspect = w / h, rw / rh
    if abs(aspect - ref_aspect) / aspect > _ASPECT_TOLERANCE:
        raise CompareInputError(
            f"{reference.origin} is {rw}×{rh}, {render.origin} is {w}×{h}: aspect ratios differ by more than "
            f"{_ASPECT_TOLERANCE:.0%}; render at the reference's aspect ratio"
        )

    def resize() -> LoadedImage:
        interp = cv2.INTER_AREA if rw > w else cv2.INTER_LINEAR
        rgb = cv2.resize(reference.rgb, (w, h), interpolation=interp)
        alpha = None if reference.alpha is None else cv2.resize(reference.alpha, (w, h), interpolation=cv2.INTER_NEAREST)
        return LoadedImage(rgb, alpha, None, "image/png", f"{reference.origin} resized to {w}×{h}")

    return reference.memo(("resized", w, h), resize), True

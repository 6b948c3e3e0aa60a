"""Where the subject is: a foreground mask from the background colours seen at the frame border.

Renders are Workbench/Cycles over a uniform world, often with a ground plane, so the border
holds one or two flat colours (world, floor). Each corner patch proposes a background colour;
a proposal is kept when it covers a good share of the border ring. With `floor_bands`, a colour
met on both the left and the right frame edge is a floor seen edge-on (a finite ground plane
crossing the frame without reaching the corners) and joins the background. Pixels far from every
kept colour, or not connected to the border through such pixels, are the subject. An alpha channel, when the image has one, is used instead.

The mask is opened with a 3×3 square: that removes render noise and the anti-aliased rims where
two background colours meet (floor against sky), and with them subject parts thinner than 3 px.

Limitations: a subject covering two corners and most of the border reads as background; with
`floor_bands`, a flat-coloured subject wider than the frame reads as floor. Callers that know
there is no floor (sentinel with scene facts) turn floor bands off.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from servers.viewport_vision.images import LoadedImage

__all__ = ["Silhouette", "silhouette", "subject", "grey"]

_CORNER = 4  # corner patch side, px
_MIN_BORDER_SHARE = 0.15  # a background colour covers at least this share of the border ring
_OPEN = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class Silhouette:
    mask: np.ndarray  # H×W bool
    background: np.ndarray  # K×3 float32 RGB in [0,255], the kept background colours (first = dominant)
    floor: np.ndarray | None = None  # H×W bool: background that is not the sky (the top corners' colour), if any

    @property
    def coverage(self) -> float:
        return float(self.mask.mean())


def grey(image: LoadedImage) -> np.ndarray:
    """The image's luma, computed once per image."""
    return image.memo("grey", lambda: cv2.cvtColor(image.rgb, cv2.COLOR_RGB2GRAY))


def subject(image: LoadedImage, tolerance: float = 0.08, floor_bands: bool = True) -> Silhouette:
    """The image's silhouette, computed once per image and settings (sentinel and compare share it)."""
    return image.memo(("silhouette", tolerance, floor_bands),
                      lambda: silhouette(image.rgb, image.alpha, tolerance, floor_bands))


def silhouette(
    rgb: np.ndarray, alpha: np.ndarray | None = None, tolerance: float = 0.08, floor_bands: bool = True
) -> Silhouette:
    """Foreground mask; `tolerance` is the max per-channel distance (in [0,1]) to a background colour."""
    if alpha is not None:
        mask = alpha > 127
        return Silhouette(mask, np.zeros((1, 3), np.float32))
    h, w = rgb.shape[:2]
    tol = tolerance * 255.0
    rgb = np.ascontiguousarray(rgb)
    ring = _border_ring(rgb)
    palette = _palette(rgb, ring, tol)
    if floor_bands:
        palette = _with_floor_bands(rgb, palette, tol)
    sky = _sky(rgb, tol)
    background = np.zeros((h, w), np.uint8)
    floor = np.zeros((h, w), np.uint8)
    for colour in palette:  # inside the per-channel box around a colour ⇔ max-channel distance ≤ tol
        lo = np.clip(colour - tol, 0, 255).tolist()
        hi = np.clip(colour + tol, 0, 255).tolist()
        near = cv2.inRange(rgb, np.array(lo), np.array(hi))
        background |= near
        if sky is not None and np.abs(colour - sky).max() > tol:
            floor |= near
    # background is what has a background colour AND connects to the frame border: a subject face
    # that happens to match the floor's grey, with sky between it and the floor, stays subject
    # (floor colours on their own: an anti-aliased rim, grey between black sky and a light subject,
    # touches the sky but is not floor)
    connected = _touching_border(background)
    floor_mask = None
    if floor.any():
        floor_mask = _touching_border(floor)
        connected &= ~((floor > 0) & ~floor_mask)
    foreground = cv2.morphologyEx((~connected).astype(np.uint8), cv2.MORPH_OPEN, _OPEN) > 0
    return Silhouette(foreground, palette, floor_mask if floor_mask is not None and floor_mask.any() else None)


def _touching_border(mask: np.ndarray) -> np.ndarray:
    """The parts of a 0/255 mask connected (4-neighbourhood) to the frame border: one flood fill from a ring of
    mask laid around the frame, which touches every part that reaches the border and nothing else."""
    ringed = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=255)
    cv2.floodFill(ringed, None, (0, 0), 128, 0, 0, 4)
    return ringed[1:-1, 1:-1] == 128


def _sky(rgb: np.ndarray, tol: float) -> np.ndarray | None:
    """The world colour, when both top corners agree on it."""
    c = min(_CORNER, *rgb.shape[:2])
    left = np.median(rgb[:c, :c].reshape(-1, 3), axis=0)
    right = np.median(rgb[:c, -c:].reshape(-1, 3), axis=0)
    return ((left + right) / 2).astype(np.float32) if np.abs(left - right).max() <= tol else None


def _border_ring(rgb: np.ndarray) -> np.ndarray:
    return np.concatenate([rgb[0], rgb[-1], rgb[1:-1, 0], rgb[1:-1, -1]]).astype(np.float32)


def _palette(rgb: np.ndarray, ring: np.ndarray, tol: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    c = min(_CORNER, h, w)
    corners = np.stack([rgb[:c, :c], rgb[:c, -c:], rgb[-c:, :c], rgb[-c:, -c:]]).reshape(4, -1, 3)
    candidates: list[np.ndarray] = []
    for colour in np.median(corners.astype(np.float32), axis=1):
        if all(np.abs(colour - k).max() > tol for k in candidates):
            candidates.append(colour)
    shares = [float((np.abs(ring - k).max(axis=1) <= tol).mean()) for k in candidates]
    kept = [k for k, s in sorted(zip(candidates, shares), key=lambda p: -p[1]) if s >= _MIN_BORDER_SHARE]
    if not kept:  # no corner colour dominates: fall back to the border's median colour
        kept = [np.median(ring, axis=0)]
    return np.stack(kept).astype(np.float32)


def _edge_runs(column: np.ndarray, palette: np.ndarray, tol: float) -> list[np.ndarray]:
    """Median colours of the runs (≥ 2 px) of non-background pixels along one frame edge."""
    col = column.astype(np.float32)
    foreground = np.ones(len(col), bool)
    for colour in palette:
        foreground &= np.abs(col - colour).max(axis=1) > tol
    steps = np.diff(np.concatenate([[0], foreground.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)
    return [np.median(col[a:b], axis=0) for a, b in zip(starts, ends) if b - a >= 2]


def _with_floor_bands(rgb: np.ndarray, palette: np.ndarray, tol: float) -> np.ndarray:
    left = _edge_runs(rgb[:, 0], palette, tol)
    if not left:
        return palette
    right = _edge_runs(rgb[:, -1], palette, tol)
    floors = [c for c in left if any(np.abs(c - r).max() <= tol for r in right)]
    return np.concatenate([palette, np.stack(floors).astype(np.float32)]) if floors else palette

"""A reference's subject without a colour guess: what differs from the scene without its subject.

The run renders, once per view, the start program's scene with its subject objects hidden through
the reference's camera (`<ref>.background.png`, orchestrator/reference_prep.py). The reference's
subject is then every pixel that differs from that background, whatever its colour: a grey box
on a grey floor is found wherever its shading differs from the floor's, a subject wider than the
frame is simply cut by the frame. A task that ships `ref/<view>.mask.png` is taken at its word.

- Difference: CIELAB, a pixel is subject when its ΔE76 to the background exceeds `_DELTA_E`.
- Shadows: a shadow darkens the ground without changing its chroma. When the scene casts shadows
  (the render was made with Cycles: the worker's measurement says so; Workbench casts none), a
  pixel darker than the background whose RGB is the background's scaled by one factor (the
  per-channel ratios agree within `_SHADOW_SPREAD`) and whose background pixel is ground, not sky,
  is shadow and stays out of the subject. The render is cut by the same rule
  (servers.viewport_vision.subject_masks), so both sides lose the same pixels.
- Connected pieces smaller than 6 px are dropped (render noise); a thin pole, long, stays. Under
  Cycles the mask is first opened (3×3): path-traced noise, and with it parts thinner than 3 px.
- The background must match: when more than `_MAX_BORDER_CHANGE` of the frame's border differs
  (a photograph, another camera, another light), the reference was not made in this scene, the
  background segmentation is unavailable and the caller falls back to pixel silhouettes, saying why.

Limits: a subject face that matches the background behind it exactly is a hole in the mask; under
Cycles, a neutral subject face darker than the ground it is seen against reads as shadow (a grey
box's side away from the sun on a grey floor), on both sides alike; the light a subject bounces
onto the ground is subject (it moves with it); a shadow cast on the sky colour does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from servers.viewport_vision.images import LoadedImage
from servers.viewport_vision.side_files import BACKGROUND_SUFFIX, side_image, side_mask

__all__ = ["Background", "ReferenceSubject", "reference_subject", "background_difference"]

_DELTA_E = 6.0
_SHADOW_SPREAD = 0.12
_SKY_TOLERANCE = 12.0  # ΔE to the background's top-corner colour: that is sky, no shadow falls on it
_MAX_BORDER_CHANGE = 0.5
_MIN_PIECE = 6
_OPEN = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class ReferenceSubject:
    mask: np.ndarray | None  # H×W bool at the size asked; None when unavailable
    method: str  # "mask_file" | "background"
    problem: str | None = None  # why it is unavailable
    background: Background | None = None  # at the size asked, when segmented against it


def _lab(rgb: np.ndarray) -> np.ndarray:
    if rgb.size == 0:  # OpenCV refuses an empty image
        return rgb.astype(np.float32)
    return cv2.cvtColor(rgb.astype(np.float32) * (1 / 255.0), cv2.COLOR_RGB2Lab)


def _squared_norm(diff: np.ndarray) -> np.ndarray:
    """Per pixel, the sum of the squared channels: the same numbers as `(diff * diff).sum(axis=2)`, added in
    the same order, but channel by channel (numpy's reduction over a length-3 axis is ten times slower)."""
    sq = diff * diff
    return sq[..., 0] + sq[..., 1] + sq[..., 2]


@dataclass(frozen=True)
class Background:
    """A background render as every comparison against it needs it (computed once per reference)."""

    rgb: np.ndarray  # H×W×3 uint8
    lab: np.ndarray
    ground: np.ndarray  # H×W bool: not the sky colour of the top-left corner, so a shadow may fall there

    @cached_property
    def lifted(self) -> np.ndarray:
        """RGB + 4 as float32: shadow ratios without dividing by 0 (only a scene that casts shadows needs them)."""
        return self.rgb.astype(np.float32) + 4.0

    @classmethod
    def of(cls, rgb: np.ndarray) -> Background:
        lab = _lab(rgb)
        c = max(1, min(4, rgb.shape[0] // 16))
        sky = lab[:c, :c].reshape(-1, 3).mean(axis=0)
        ground = _squared_norm(lab - sky) > _SKY_TOLERANCE**2
        return cls(rgb, lab, ground)


def background_difference(image: np.ndarray, background: Background, shadows: bool = True) -> tuple[np.ndarray, float]:
    """(subject mask, share of the frame border that differs) of an image against its background render;
    `shadows`: the scene's light casts shadows (Cycles), so shadow-like darkening is not subject."""
    same = image == background.rgb
    at = np.flatnonzero(~(same[..., 0] & same[..., 1] & same[..., 2]))  # only these can differ (Workbench: few)
    pixels = image.reshape(-1, 3)[at]
    diff = _lab(pixels[:, None]) - background.lab.reshape(-1, 1, 3)[at]
    changed_at = _squared_norm(diff)[:, 0] > _DELTA_E**2
    changed = np.zeros(image.shape[:2], bool)
    changed.reshape(-1)[at] = changed_at
    subject = changed
    if shadows:
        ratio = (pixels.astype(np.float32) + 4.0) / background.lifted.reshape(-1, 3)[at]
        r, g, b = ratio[:, 0], ratio[:, 1], ratio[:, 2]
        high, low = np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)
        uniform = (high - low) <= _SHADOW_SPREAD * (r + g + b) / 3 + 0.02
        subject = np.zeros(image.shape[:2], np.uint8)
        subject.reshape(-1)[at] = changed_at & ~((high < 0.97) & uniform & background.ground.reshape(-1)[at])
        subject = cv2.morphologyEx(subject, cv2.MORPH_OPEN, _OPEN) > 0  # path-traced noise
    border = np.concatenate([changed[0], changed[-1], changed[1:-1, 0], changed[1:-1, -1]])
    return _without_specks(subject), float(border.mean())


def _without_specks(mask: np.ndarray) -> np.ndarray:
    """The mask less its connected pieces smaller than `_MIN_PIECE` px (render noise); a thin pole, one
    pixel wide but long, stays."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= _MIN_PIECE
    if keep[1:].all():  # no speck: the mask as it is (the usual case, and a full-frame lookup less)
        return mask
    keep[0] = False
    return keep[labels]


def reference_subject(reference: LoadedImage, size: tuple[int, int], shadows: bool = True) -> ReferenceSubject | None:
    """The reference's subject at `size` (h, w) from its side files, or None when it has neither a mask nor a
    background (the caller segments pixels as before). Memoised with the reference: computed once per run and view."""
    def compute() -> ReferenceSubject | None:
        shipped = side_mask(reference)
        if shipped is not None:
            return ReferenceSubject(_resize(shipped > 0, size), "mask_file")
        background = side_image(reference, BACKGROUND_SUFFIX)
        if background is None:
            return None
        ref_rgb = reference.rgb
        if background.shape[:2] != ref_rgb.shape[:2]:
            ref_rgb = cv2.resize(ref_rgb, (background.shape[1], background.shape[0]), interpolation=cv2.INTER_AREA)
        measured = Background.of(background)
        mask, border_change = background_difference(ref_rgb, measured, shadows)
        if border_change > _MAX_BORDER_CHANGE:
            return ReferenceSubject(None, "background", (
                f"the reference's background does not match the scene's own render through this camera "
                f"({border_change:.0%} of the frame border differs; a photograph, another camera or another light?)"))
        if background.shape[:2] != size:
            measured = Background.of(cv2.resize(background, (size[1], size[0]), interpolation=cv2.INTER_AREA))
        return ReferenceSubject(_resize(mask, size), "background", background=measured)
    return reference.memo(("reference_subject", size, shadows), compute)


def _resize(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if mask.shape == size:
        return mask
    return cv2.resize(mask.astype(np.uint8), (size[1], size[0]), interpolation=cv2.INTER_NEAREST) > 0

"""Which pixels are the subject, per side, measured where each side is known best.

- Reference: a shipped `ref/<view>.mask.png`, else what differs from the scene's own background
  render beside it (`<ref>.background.png`, servers.viewport_vision.reference_subject).
- Render: the worker's label mask and measurement beside the PNG (`<view>.mask.png`,
  `<view>.measure.json`): exact, from the scene. Against a background-segmented reference, the
  render's subject is what differs from that same background in the render, in connected parts
  that overlap the scene's mask: both sides are then cut the same way (a face in deep shadow
  against a black sky is missing from both, the anti-aliased rim and the light the subject
  bounces onto the ground are in both), so the truth measures as a perfect match, while the
  scene still says which differences are the subject (not a shadow, not noise elsewhere). When
  the frame cuts the subject, the box is the scene's unclipped one: a subject wider than the
  frame keeps its size and its gradient.
Scene-based measurement needs both sides; when either is missing, or the reference's background
does not match, both sides fall back to the colour silhouettes (servers.viewport_vision.silhouette),
so the two masks are always made alike, and the note says why.
"""

from __future__ import annotations

import base64
import struct
import zlib

import cv2
import numpy as np

from harness.measure_types import Box, ViewMeasure
from servers.viewport_vision.images import PNG_SIGNATURE, LoadedImage
from servers.viewport_vision.reference_subject import background_difference, reference_subject
from servers.viewport_vision.residuals import mask_box
from servers.viewport_vision.side_files import side_mask, side_measure
from servers.viewport_vision.silhouette import subject

__all__ = ["subject_masks", "mask_overlay"]


def subject_masks(render: LoadedImage, reference: LoadedImage, fitted: LoadedImage, tolerance: float
                  ) -> tuple[np.ndarray, np.ndarray, ViewMeasure | None, str | None]:
    """(render mask, reference mask at the render's size, the render's scene measurement when used, note).
    `reference` is the reference as given (its side files), `fitted` the same at the render's size."""
    labels, measured = side_mask(render), side_measure(render)
    shadows = measured.shadows if measured is not None else True
    ref_subject = reference_subject(reference, (render.height, render.width), shadows)
    if labels is not None and measured is not None and ref_subject is not None and ref_subject.mask is not None:
        mask = labels > 0
        if ref_subject.background is not None:
            mask = _touching(background_difference(render.rgb, ref_subject.background, shadows)[0], mask)
        if measured.subject is not None:
            measured = measured.model_copy(update={"subject": _outline(mask, measured.subject)})
        return mask, ref_subject.mask, measured, None
    note = None
    if labels is not None and measured is not None:
        note = "scene-based residuals unavailable: " + (
            ref_subject.problem if ref_subject is not None and ref_subject.problem
            else "the reference has no mask and no background render beside it")
    return subject(render, tolerance).mask, subject(fitted, tolerance).mask, None, note


def _touching(visible: np.ndarray, scene: np.ndarray) -> np.ndarray:
    """The connected parts of `visible` that overlap the scene's subject (its rim, the light it casts on the ground)."""
    count, parts = cv2.connectedComponents(visible.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    keep[np.unique(parts[scene])] = True
    keep[0] = False
    return keep[parts]


def _outline(mask: np.ndarray, scene: Box) -> Box:
    """The visible mask's box; when the frame cuts the subject, the scene's unclipped edges, all four (posts
    outside the frame take the bottom edge with them, though the beam left inside touches only the sides)."""
    if not mask.any():
        return scene
    seen = mask_box(mask)
    if scene.left < 0 or scene.right > 1 or scene.bottom < 0 or scene.top > 1:
        return seen.model_copy(update={"left": scene.left, "right": scene.right, "top": scene.top, "bottom": scene.bottom})
    return seen


_OVERLAY_PALETTE = bytes([0, 0, 0, 0, 255, 0, 255, 0, 0, 255, 255, 0])  # neither, render, reference, both


def mask_overlay(render: np.ndarray, reference: np.ndarray) -> str:
    """Both subjects in one small PNG data URL (render green, reference red, both yellow): where the numbers
    come from, for report.html and the dashboard. Four colours, so a 2-bit palette PNG: a tenth of the bytes
    of an RGB one, kept with every iteration, and a fraction of the time to encode."""
    h, w = render.shape
    index = np.zeros((h, -(-w // 4) * 4), np.uint8)
    index[:, :w] = np.asarray(render, bool).view(np.uint8) | (np.asarray(reference, bool).view(np.uint8) << 1)
    quads = index.reshape(h, -1, 4)
    packed = (quads[..., 0] << 6) | (quads[..., 1] << 4) | (quads[..., 2] << 2) | quads[..., 3]
    rows = np.hstack([np.zeros((h, 1), np.uint8), packed])  # each row: filter type 0, then its pixels
    png = b"".join([PNG_SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 2, 3, 0, 0, 0)),
                    _chunk(b"PLTE", _OVERLAY_PALETTE), _chunk(b"IDAT", zlib.compress(rows.tobytes())), _chunk(b"IEND", b"")])
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

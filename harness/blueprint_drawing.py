"""Reading a plan: the subject's silhouette and its parts from dark line work on a light ground.

Here in the harness (not the vision server) because a task file is validated when it is loaded,
in the coordinator's process: an outline that cannot be closed is a task error naming the view.

The method, and what it ignores:
- Ink is what is darker than Otsu's threshold (kept within 64..200), read in blocks of pixels so
  the working image is at most WORK_PX a side (a block is ink when any of its pixels is).
- Drafting draws outlines heavy and dimension, extension, centre and hatch lines thin: lines
  under 2 working pixels wide are set aside first. When the heavy lines alone enclose no subject
  of at least MIN_SUBJECT_SHARE of the sheet (a drawing in one line weight), all the ink is used.
- Gaps up to about twice the line width (2·median of the ink's distance transform) are closed,
  then the ground is flood-filled from the border: what the fill cannot reach is the subject
  with its line work.
- An opening a little wider than the closing removes every line that encloses nothing: dimension
  lines and their arrows, extension lines, leaders, the parts of a centre line outside the outline,
  thin text. Of what remains the largest region is the subject, so a title or a label beside the
  subject (however bold) is dropped too. Half a line width is then taken off, since lines are
  drawn centred on the edge they mark.
- Inner closed regions of the line work (≥ 0.5 % of the subject's area) are parts; hatching makes
  only small cells, which fall below that (or is set aside as thin). A dash-dot centre line leaves
  its gaps open and splits nothing. Parts are counted, not scored.
- Not handled: an extension line as heavy as the outline that meets it without a gap encloses
  the area between the outline and its dimension line (drafting practice draws it thin and leaves
  a gap); a frame around the drawing (crop it off: the drawing's width is the span); an open outer
  outline around a closed part reads as that part.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from harness.blueprint_types import MAX_DRAWING_PX

__all__ = ["DrawingError", "Drawing", "load_drawing", "read_drawing", "read_drawing_file"]

WORK_PX = 1024
"""Drawings are read at most this many pixels a side (blocks of the drawing's pixels): 3 cm at a
30 m span, and a 2048-px drawing reads in a quarter of the time."""
PART_MIN_SHARE = 0.005
MIN_SUBJECT_SHARE = 0.02  # of the sheet: a subject read from the heavy lines alone must be at least this big
ENCLOSED_MIN_RATIO = 2.0  # subject area ÷ its ink: below this the "subject" is only lines (the outline is open)


class DrawingError(ValueError):
    """The drawing cannot be used; the message says why (the caller adds the view)."""


@dataclass
class Drawing:
    mask: np.ndarray  # bool: the subject's silhouette, one pixel per `scale`×`scale` of the drawing (from its top left)
    scale: int
    line_px: float
    gap_px: int
    parts: int
    dropped: int  # regions left out (text, dimension lines, title, …)


def load_drawing(path: Path) -> np.ndarray:
    """The drawing as 8-bit grey; DrawingError when it cannot be read, is empty or too large."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise DrawingError(f"cannot read {path}: {e.strerror}") from None
    if size == 0:
        raise DrawingError(f"{path} is an empty file")
    grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if grey is None or grey.size == 0:
        raise DrawingError(f"{path} is not a readable PNG or JPEG image")
    h, w = grey.shape
    if max(h, w) > MAX_DRAWING_PX:
        raise DrawingError(f"{path} is {w}×{h} px; a drawing may be at most {MAX_DRAWING_PX} px a side")
    return grey


def _ink(grey: np.ndarray) -> np.ndarray:
    if int(grey.min()) > 200:
        raise DrawingError("the image holds no dark line work (a blank page?)")
    otsu, _ = cv2.threshold(grey[::2, ::2], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.threshold(grey, min(200.0, max(64.0, otsu)) - 1, 1, cv2.THRESH_BINARY_INV)[1]


def _reduce(ink: np.ndarray) -> tuple[np.ndarray, int]:
    """The ink at most WORK_PX a side: blocks of f×f pixels, inked when any pixel is (lines survive)."""
    h, w = ink.shape
    f = -(-max(h, w) // WORK_PX)
    if f == 1:
        return ink, 1
    padded = cv2.copyMakeBorder(ink * 255, 0, -h % f, 0, -w % f, cv2.BORDER_CONSTANT, value=0)
    reduced = cv2.resize(padded, (padded.shape[1] // f, padded.shape[0] // f), interpolation=cv2.INTER_AREA)
    return (reduced > 0).astype(np.uint8), f


def read_drawing(grey: np.ndarray) -> Drawing:
    """The subject's silhouette and parts; DrawingError when there is no closed outline to read."""
    full = _ink(grey)
    if full[0].any() and full[-1].any() and full[:, 0].any() and full[:, -1].any():
        raise DrawingError("the line work touches every border: the drawing is cropped or carries a frame, so its "
                           "width is not the span; leave a margin (or crop the frame off) and set span_m to what "
                           "the full width covers")
    ink, scale = _reduce(full)
    square = np.ones((2, 2), np.uint8)  # an opening by 2×2 leaves only lines at least 2 px wide
    heavy = cv2.dilate(cv2.erode(ink, square, anchor=(0, 0)), square, anchor=(1, 1))  # (anchors: no shift)
    try:
        drawing = _subject(heavy, scale)
        if drawing.mask.sum() >= MIN_SUBJECT_SHARE * heavy.size:
            return drawing
    except DrawingError:
        pass
    return _subject(ink, scale)  # one line weight throughout


def _subject(ink: np.ndarray, scale: int) -> Drawing:
    dist = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    line_px = max(1.0, 2.0 * float(np.median(dist[ink > 0][::5])))
    gap = 2 * round(line_px) + 1
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, gap)))
    ground = np.pad(closed, 1)  # a ring of ground around the sheet: one fill reaches every border
    cv2.floodFill(ground, None, (0, 0), 2, flags=4)
    filled = (ground[1:-1, 1:-1] != 2).astype(np.uint8)
    k = gap + 2
    opened = cv2.morphologyEx(filled, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    contours, _ = cv2.findContours(opened, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        raise DrawingError(f"the outline cannot be closed: no region stays enclosed after closing gaps up to "
                           f"{gap * scale} px (an open outline, or only thin lines)")
    outline = max(contours, key=cv2.contourArea)
    subject = np.zeros_like(opened)
    cv2.drawContours(subject, [outline], -1, 1, cv2.FILLED)
    area = int(subject.sum())
    if area < ENCLOSED_MIN_RATIO * int(closed[subject > 0].sum()):
        raise DrawingError(f"the outline cannot be closed: the largest region is mostly line work (gaps over "
                           f"{gap * scale} px in the outline let the ground in)")
    half = int(line_px / 2 + 0.25)  # lines are drawn centred on the edge they mark
    if half > 0:
        subject = cv2.erode(subject, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * half + 1,) * 2))
    cells, tree = cv2.findContours(subject & (1 - closed), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    parts = sum(1 for c, h in zip(cells, tree[0] if tree is not None else []) if h[3] < 0  # outer borders, not holes
                and cv2.contourArea(c) >= PART_MIN_SHARE * area)
    return Drawing(mask=subject > 0, scale=scale, line_px=line_px * scale, gap_px=gap * scale, parts=parts,
                   dropped=len(contours) - 1)


def read_drawing_file(path: Path) -> Drawing:
    return read_drawing(load_drawing(path))

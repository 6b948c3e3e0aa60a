"""Which pixels are the subject, per side, measured where each side is known best.

- Render: the worker's label mask and measurement beside the PNG (`<view>.mask.png`,
  `<view>.measure.json`): exact, from the scene.
- Reference: a shipped `ref/<view>.mask.png`, else the difference from the scene's own background
  render (`<ref>.background.png`, servers.viewport_vision.reference_subject).
Scene-based measurement needs both; when either is missing or the reference's background does not
match, both sides fall back to the colour silhouettes (servers.viewport_vision.silhouette), so the
two masks are always made the same way, and the note says why.
"""

from __future__ import annotations

import numpy as np

from harness.measure_types import ViewMeasure
from servers.viewport_vision.images import LoadedImage
from servers.viewport_vision.reference_subject import reference_subject
from servers.viewport_vision.side_files import side_mask, side_measure
from servers.viewport_vision.silhouette import subject

__all__ = ["subject_masks"]


def subject_masks(render: LoadedImage, reference: LoadedImage, fitted: LoadedImage, tolerance: float
                  ) -> tuple[np.ndarray, np.ndarray, ViewMeasure | None, str | None]:
    """(render mask, reference mask at the render's size, the render's scene measurement when used, note).
    `reference` is the reference as given (its side files), `fitted` the same at the render's size."""
    labels, measured = side_mask(render), side_measure(render)
    ref_subject = reference_subject(reference, (render.height, render.width))
    note = None
    if labels is not None and measured is not None and ref_subject is not None and ref_subject.mask is not None:
        return labels > 0, ref_subject.mask, measured, None
    if labels is not None and measured is not None:
        note = ("scene-based residuals unavailable: " + ref_subject.problem if ref_subject is not None and ref_subject.problem
                else "scene-based residuals unavailable: the reference has no mask and no background render beside it")
    return subject(render, tolerance).mask, subject(fitted, tolerance).mask, None, note

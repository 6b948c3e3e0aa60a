"""What sits beside an image file: the worker's measurement of a render, a subject mask, a background.

`front.png` may have `front.mask.png` (subject labels: the worker's for a render, a task's or the
run's for a reference), `front.measure.json` (the worker's ViewMeasure) and `front.background.png`
(the scene without its subject through the same camera). Only files in the image's own folder are
read, and each once per image (memoised with it). An image given as bytes has no side files.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from pydantic import ValidationError

from harness.measure_types import MASK_SUFFIX, MEASURE_SUFFIX, ViewMeasure, side_file
from servers.viewport_vision.errors import CompareInputError
from servers.viewport_vision.images import LoadedImage

__all__ = ["side_mask", "side_measure", "side_image", "BACKGROUND_SUFFIX"]

BACKGROUND_SUFFIX = ".background.png"


def _beside(image: LoadedImage, suffix: str) -> Path | None:
    if image.source is None:
        return None
    path = Path(side_file(str(image.source), suffix))
    return path if path.is_file() and path.resolve().parent == image.source.parent else None


def side_mask(image: LoadedImage) -> np.ndarray | None:
    """The labels beside the image (H×W uint8, 0 = background); an error when its size is not the image's."""
    def load() -> np.ndarray | None:
        path = _beside(image, MASK_SUFFIX)
        if path is None:
            return None
        labels = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if labels is None:
            raise CompareInputError(f"{path}: not a readable PNG mask")
        if labels.shape != (image.height, image.width):
            raise CompareInputError(f"{path} is {labels.shape[1]}×{labels.shape[0]}, its image {image.source.name} is "
                                    f"{image.width}×{image.height}: a mask must have its image's size")
        return labels
    return image.memo("side_mask", load)


def side_measure(image: LoadedImage) -> ViewMeasure | None:
    def load() -> ViewMeasure | None:
        path = _beside(image, MEASURE_SUFFIX)
        if path is None:
            return None
        try:
            return ViewMeasure.model_validate_json(path.read_text(encoding="utf-8"))
        except (ValidationError, UnicodeDecodeError) as e:
            raise CompareInputError(f"{path}: not a measurement the worker wrote: {e}") from None
    return image.memo("side_measure", load)


def side_image(image: LoadedImage, suffix: str) -> np.ndarray | None:
    """An RGB image beside this one (e.g. its background render), or None."""
    def load() -> np.ndarray | None:
        path = _beside(image, suffix)
        if path is None:
            return None
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CompareInputError(f"{path}: not a readable image")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return image.memo(("side_image", suffix), load)

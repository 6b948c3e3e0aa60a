"""Small signatures of an image for finding look-alikes fast: a 64-bit pHash and a colour histogram.

pHash: grey image → 32×32 (area resampling) → 2-D DCT → the 8×8 lowest frequencies → one bit per
coefficient, above the median of the 63 AC coefficients (the DC term only measures brightness).
Similar layouts differ in few bits. The colour histogram is hue weighted by saturation (12 bins)
plus one bin for the grey share: a red block and a pink one land in the same bins, a blue one
does not, and the grey ground and sky of every render count only in the grey bin.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel, Field

__all__ = ["phash_bits", "phash_hex", "hamming", "colour_histogram", "ImageSignature", "signature", "HUE_BINS"]

HUE_BINS = 12


def phash_bits(rgb: np.ndarray) -> int:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    bits = low > np.median(low[1:])
    return int("".join("1" if b else "0" for b in bits), 2)


def phash_hex(rgb: np.ndarray) -> str:
    return f"{phash_bits(rgb):016x}"


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def colour_histogram(rgb: np.ndarray) -> list[float]:
    """HUE_BINS hue bins weighted by saturation, then the grey share; sums to 1."""
    small = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(np.float32)
    sat = hsv[:, 1] / 255.0
    bins = np.minimum((hsv[:, 0] / 180.0 * HUE_BINS).astype(int), HUE_BINS - 1)
    hist = np.bincount(bins, weights=sat, minlength=HUE_BINS)
    out = np.append(hist, float((1.0 - sat).sum()))
    return [round(float(v), 4) for v in out / out.sum()]


class ImageSignature(BaseModel):
    phash: str = Field(description="64-bit pHash, 16 hex digits")
    colour: list[float] = Field(description=f"{HUE_BINS} saturation-weighted hue bins and the grey share")


def signature(path: Path) -> ImageSignature | None:
    """The image's signature, or None when it cannot be read."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        return None
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return ImageSignature(phash=phash_hex(rgb), colour=colour_histogram(rgb))

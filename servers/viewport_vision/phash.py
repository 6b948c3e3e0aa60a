"""64-bit DCT perceptual hash (pHash) for the render-artifact index and the phash metric.

Grey image → 32×32 (area resampling) → 2-D DCT → the 8×8 lowest frequencies → one bit per
coefficient: above the median of the 63 AC coefficients (the DC term is left out of the median,
it only measures brightness). Similar-looking images differ in few bits.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["phash_bits", "phash_hex", "hamming"]


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

"""64-bit DCT perceptual hash (pHash) for the phash tool and metric: harness.image_signature's, shared with
the coordinator's cross-run recall, which must not import a server."""

from __future__ import annotations

from harness.image_signature import hamming, phash_bits, phash_hex

__all__ = ["phash_bits", "phash_hex", "hamming"]

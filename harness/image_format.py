"""Which image format a blob holds, from its signature: the one place PNG and JPEG are told apart."""

from __future__ import annotations

__all__ = ["image_mime"]

_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def image_mime(blob: bytes) -> str | None:
    """`image/png` or `image/jpeg`, or None for anything else."""
    return next((mime for signature, mime in _SIGNATURES.items() if blob.startswith(signature)), None)

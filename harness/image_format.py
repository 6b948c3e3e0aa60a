"""Image data as clients send it: the one place PNG and JPEG are told apart, and base64 text
(bare or as a data URL) is turned into bytes with the same rules wherever a client may send it
(the vision server's image inputs, an inline task's references)."""

from __future__ import annotations

import base64
import binascii
import re

from harness.errors import ImageDataError, ImageDataTooLarge

__all__ = ["image_mime", "decode_image_text", "is_data_url"]

_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]*)*?);base64,(?P<data>.*)$", re.S)
_ACCEPTED_MIMES = ("image/png", "image/jpeg", "image/jpg")


def image_mime(blob: bytes) -> str | None:
    """`image/png` or `image/jpeg`, or None for anything else."""
    return next((mime for signature, mime in _SIGNATURES.items() if blob.startswith(signature)), None)


def is_data_url(text: str) -> bool:
    return text.startswith("data:")


def decode_image_text(text: str, max_bytes: int) -> bytes:
    """The bytes of a base64 PNG or JPEG, bare or as a `data:image/...;base64,` URL (whitespace
    ignored); sizes are checked before decoding. ImageDataError (ImageDataTooLarge) says what is wrong."""
    text = text.strip()
    if is_data_url(text):
        match = _DATA_URL.match(text)
        if not match:
            raise ImageDataError("malformed data URL (expected data:image/png;base64,...)")
        mime = match["mime"] or ""
        if mime not in _ACCEPTED_MIMES:
            raise ImageDataError(f"data URL of type {mime or 'unknown'!r}; only image/png and image/jpeg are accepted")
        text = match["data"]
    if len(text) * 3 // 4 > max_bytes + 3:
        raise ImageDataTooLarge(f"base64 payload decodes to over the {max_bytes}-byte limit")
    try:
        blob = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as e:
        raise ImageDataError(f"invalid base64 ({e}); send a path, base64 PNG/JPEG or a data URL") from None
    if image_mime(blob) is None:
        raise ImageDataError(f"not a PNG or JPEG (first bytes {blob[:8]!r})")
    return blob

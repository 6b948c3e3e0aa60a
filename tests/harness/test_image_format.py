"""Image formats are told apart by signature, so a JPEG reference reaches a model labelled as JPEG;
base64 image text is decoded by one set of rules for every client-facing input."""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np
import pytest

from harness.errors import ImageDataError, ImageDataTooLarge
from harness.image_format import decode_image_text, image_mime
from orchestrator.memory import image_part


def test_png_and_jpeg_are_recognised_and_anything_else_is_not(tmp_path: Path) -> None:
    image = np.full((8, 8, 3), 128, np.uint8)
    assert image_mime(cv2.imencode(".png", image)[1].tobytes()) == "image/png"
    assert image_mime(cv2.imencode(".jpg", image)[1].tobytes()) == "image/jpeg"
    assert image_mime(b"GIF89a....") is None


def test_a_jpeg_reference_becomes_a_jpeg_data_url(tmp_path: Path) -> None:
    path = tmp_path / "front.jpg"
    path.write_bytes(cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    assert image_part(path)["image_url"]["url"].startswith("data:image/jpeg;base64,/9j/")


def test_image_text_decodes_bare_base64_and_data_urls_with_one_set_of_rules() -> None:
    ok, png = cv2.imencode(".png", np.full((4, 4, 3), 200, np.uint8))
    blob = png.tobytes()
    text = base64.b64encode(blob).decode()
    assert decode_image_text(text, 10_000) == blob
    assert decode_image_text(f"data:image/png;base64,{text[:10]}\n{text[10:]}  ", 10_000) == blob
    with pytest.raises(ImageDataError, match="type 'image/gif'"):
        decode_image_text(f"data:image/gif;base64,{text}", 10_000)
    with pytest.raises(ImageDataError, match="invalid base64"):
        decode_image_text("not*base64", 10_000)
    with pytest.raises(ImageDataError, match="not a PNG or JPEG"):
        decode_image_text(base64.b64encode(b"GIF89a....").decode(), 10_000)
    with pytest.raises(ImageDataTooLarge):
        decode_image_text(text, len(blob) - 10)

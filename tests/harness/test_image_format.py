"""Image formats are told apart by signature, so a JPEG reference reaches a model labelled as JPEG."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from harness.image_format import image_mime
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

"""Image intake: paths under the allowed roots, base64, data URLs, and clear tagged refusals."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastmcp import Client

from servers.viewport_vision.errors import (
    BadImageError,
    ImageNotFoundError,
    ImageTooLargeError,
    PathOutsideRootsError,
)
from servers.viewport_vision.images import ImageLimits, ImageLoader
from servers.viewport_vision.silhouette import subject
from servers.viewport_vision.server import create_server


def _png(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def _frame() -> np.ndarray:
    img = np.full((64, 48, 3), 40, np.uint8)
    img[20:40, 10:30] = (220, 30, 30)
    return img


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root").mkdir()
    return tmp_path / "root"


@pytest.fixture
def loader(root: Path) -> ImageLoader:
    return ImageLoader([root])


def test_png_under_an_allowed_root_loads_as_rgb(root: Path, loader: ImageLoader) -> None:
    (root / "front.png").write_bytes(_png(_frame()))
    image = loader.load(str(root / "front.png"))
    assert (image.width, image.height) == (48, 64)
    assert tuple(image.rgb[30, 20]) == (220, 30, 30)
    assert image.data == (root / "front.png").read_bytes()


def test_base64_and_data_url_give_the_same_pixels(loader: ImageLoader) -> None:
    data = _png(_frame())
    b64 = base64.b64encode(data).decode()
    assert np.array_equal(loader.load(b64).rgb, loader.load(f"data:image/png;base64,{b64}").rgb)


def test_jpeg_size_is_read_from_its_header(loader: ImageLoader) -> None:
    ok, buf = cv2.imencode(".jpg", np.full((30, 70, 3), 128, np.uint8))
    image = loader.load(base64.b64encode(buf.tobytes()).decode())
    assert (image.width, image.height, image.mime) == (70, 30, "image/jpeg")


def test_dotdot_out_of_the_root_is_refused(root: Path, loader: ImageLoader) -> None:
    (root.parent / "secret.png").write_bytes(_png(_frame()))
    with pytest.raises(PathOutsideRootsError, match=r"^\[PATH_OUTSIDE_ROOTS\].*secret\.png"):
        loader.load(str(root / ".." / "secret.png"))


def test_symlink_escaping_the_root_is_refused(root: Path, loader: ImageLoader) -> None:
    (root.parent / "outside.png").write_bytes(_png(_frame()))
    os.symlink(root.parent / "outside.png", root / "inside.png")
    with pytest.raises(PathOutsideRootsError):
        loader.load(str(root / "inside.png"))


def test_missing_file_is_named(root: Path, loader: ImageLoader) -> None:
    with pytest.raises(ImageNotFoundError, match=r"^\[IMAGE_NOT_FOUND\].*nope\.png"):
        loader.load(str(root / "nope.png"))


def test_corrupt_png_is_a_bad_image(root: Path, loader: ImageLoader) -> None:
    data = _png(_frame())
    (root / "broken.png").write_bytes(data[:40] + b"\x00" * 200)
    with pytest.raises(BadImageError, match=r"^\[BAD_IMAGE\].*corrupt"):
        loader.load(str(root / "broken.png"))


def test_text_file_is_not_an_image(root: Path, loader: ImageLoader) -> None:
    (root / "notes.png").write_text("hello")
    with pytest.raises(BadImageError, match="not a PNG or JPEG"):
        loader.load(str(root / "notes.png"))


def test_invalid_base64_is_a_bad_image(loader: ImageLoader) -> None:
    with pytest.raises(BadImageError, match="invalid base64"):
        loader.load("iVBORw0KGgo***not base64***")


def test_data_url_of_another_type_is_refused(loader: ImageLoader) -> None:
    with pytest.raises(BadImageError, match="image/gif"):
        loader.load("data:image/gif;base64,R0lGODlhAQABAAAAACw=")


def test_image_wider_than_4096_px_is_refused_from_its_header(loader: ImageLoader) -> None:
    wide = _png(np.zeros((2, 4097, 3), np.uint8))
    with pytest.raises(ImageTooLargeError, match=r"^\[IMAGE_TOO_LARGE\].*4097×2"):
        loader.load(wide)


def test_file_over_20_mb_is_refused_before_decoding(root: Path, loader: ImageLoader) -> None:
    big = root / "big.png"
    big.write_bytes(_png(_frame()) + b"\x00" * (20 * 1024 * 1024))
    with pytest.raises(ImageTooLargeError, match="byte limit"):
        loader.load(str(big))


def test_base64_over_20_mb_is_refused_before_decoding(loader: ImageLoader) -> None:
    with pytest.raises(ImageTooLargeError):
        loader.load("iVBORw0KGgo" + "A" * (28 * 1024 * 1024))


def test_transparent_png_keeps_its_alpha_as_the_silhouette(loader: ImageLoader) -> None:
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[8:24, 8:24] = (200, 200, 200, 255)
    ok, buf = cv2.imencode(".png", rgba)
    image = loader.load(buf.tobytes())
    assert image.alpha is not None and int(np.count_nonzero(image.alpha)) == 16 * 16


async def test_tool_errors_cross_mcp_with_their_tag(root: Path) -> None:
    async with Client(create_server([root])) as client:
        result = await client.call_tool("phash", {"image": "/etc/hostname"}, raise_on_error=False)
    assert result.is_error
    assert result.content[0].text.startswith("[PATH_OUTSIDE_ROOTS]")


def test_same_file_is_decoded_once_and_a_rewritten_file_again(root: Path, loader: ImageLoader) -> None:
    path = root / "ref.png"
    path.write_bytes(_png(_frame()))
    first = loader.load(str(path))
    assert loader.load(str(path)) is first
    changed = _frame()
    changed[0, 0] = (1, 2, 3)
    path.write_bytes(_png(changed) + b"\x00")  # new size and mtime
    again = loader.load(str(path))
    assert again is not first and tuple(again.rgb[0, 0]) == (1, 2, 3)



def test_the_cache_budget_counts_what_the_checks_derive_and_drops_the_oldest(root: Path) -> None:
    frames = []
    for i in range(6):
        frame = _frame()
        frame[0, 0] = (i, i, i)
        (root / f"{i}.png").write_bytes(_png(frame))
        frames.append(str(root / f"{i}.png"))
    one = ImageLoader([root]).load(frames[0])
    plain = one.nbytes
    subject(one)  # a silhouette (mask, background, floor) and the grey image it needs
    assert one.nbytes > plain + one.rgb.nbytes // 3, "the derived data must be counted"
    budget = 3 * one.nbytes + 100
    loader = ImageLoader([root], ImageLimits(cache_bytes=budget))
    loaded = []
    for path in frames:
        loaded.append(loader.load(path))
        subject(loaded[-1])
        assert loader.cached_bytes() <= budget + one.nbytes  # settled at the next store
    assert loader.load(frames[-1]) is loaded[-1], "the newest stays"
    assert loader.load(frames[0]) is not loaded[0], "the oldest was dropped, so it is decoded again"

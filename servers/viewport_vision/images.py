"""Turning what a client sends into pixels, safely.

An image arrives as a path, a base64 string or a data URL (PNG or JPEG). Paths are resolved
(`..` and symlinks followed) and must land inside an allowed root: by default `<cwd>/runs`
(where runs write their renders) and the system temp dir (where workers render by default).
Sizes are checked before decoding: at most 20 MB of encoded bytes and 4096 px per side, read
from the PNG/JPEG header so a decompression bomb is refused without being inflated.

Decoded images are kept in a small LRU (by resolved path + mtime + size, or by content hash), so
a reference compared every iteration, or a render checked then critiqued, is decoded and analysed
once; `LoadedImage.memo` holds what the checks derive from it, and the LRU's byte budget counts
that too (edge maps and silhouettes hold several times the pixels' own memory).

Telling a path from base64: a string is base64 when it is a data URL, longer than any path can
be (4096), or starts with the base64 of a PNG/JPEG signature (`iVBORw0KGgo`, `/9j/`).
"""

from __future__ import annotations

import base64
import dataclasses
import struct
import tempfile
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np
from pydantic import BaseModel, Field

from harness.errors import ImageDataError, ImageDataTooLarge
from harness.image_format import decode_image_text, is_data_url
from servers.viewport_vision.errors import (
    BadImageError,
    ImageNotFoundError,
    ImageTooLargeError,
    PathOutsideRootsError,
)

__all__ = ["ImageLimits", "ImageLoader", "LoadedImage", "ImageInput", "MapViews", "PNG_SIGNATURE", "default_roots"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PATH_MAX = 4096

ImageInput = str | Path | bytes | np.ndarray
T = TypeVar("T")
MapViews = Callable[..., Iterable[Any]]
"""`map` or a thread pool's `map`: how per-view work is run (views are independent)."""


class ImageLimits(BaseModel):
    max_bytes: int = Field(20 * 1024 * 1024, gt=0, description="encoded size limit")
    max_side: int = Field(4096, gt=0, description="width and height limit in pixels")
    cache_bytes: int = Field(256 * 1024 * 1024, ge=0, description="memory kept for reuse (references, a render "
                                                                   "checked then critiqued): decoded pixels, encoded "
                                                                   "bytes and what the checks derived from them")


def default_roots() -> list[Path]:
    return [Path.cwd() / "runs", Path(tempfile.gettempdir())]


class LoadedImage:
    """Decoded pixels plus the encoded bytes (sent as-is to a VLM, so the model sees what was given)."""

    def __init__(self, rgb: np.ndarray, alpha: np.ndarray | None, data: bytes | None, mime: str, origin: str) -> None:
        self.rgb = rgb  # H×W×3 uint8, RGB order
        self.alpha = alpha  # H×W uint8 when the image had transparency, else None
        self._data = data
        self.mime = mime
        self.origin = origin
        self.source: Path | None = None  # the file it came from, when a path: side files sit beside it
        self._memo: dict[object, object] = {}
        self._memo_bytes = 0

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """Derived data (grey, silhouette, edges, hash) computed once per image and reused by every check."""
        if key not in self._memo:
            value = self._memo[key] = compute()
            self._memo_bytes += _held_bytes(value)
        return self._memo[key]  # type: ignore[return-value]

    @property
    def nbytes(self) -> int:
        """Memory this image holds: pixels, encoded bytes and everything memoised from them."""
        alpha = self.alpha.nbytes if self.alpha is not None else 0
        return self.rgb.nbytes + alpha + len(self._data or b"") + self._memo_bytes

    @classmethod
    def from_array(cls, array: np.ndarray, origin: str = "array") -> "LoadedImage":
        """From an in-process H×W×3 (RGB) or H×W uint8 array."""
        if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
            raise BadImageError(f"{origin}: expected an H×W, H×W×3 or H×W×4 uint8 array, got {array.dtype} {array.shape}")
        if array.ndim == 2:
            return cls(np.repeat(array[:, :, None], 3, axis=2), None, None, "image/png", origin)
        if array.shape[2] == 4:
            return cls(np.ascontiguousarray(array[:, :, :3]), _alpha_or_none(array[:, :, 3]), None, "image/png", origin)
        return cls(np.ascontiguousarray(array), None, None, "image/png", origin)

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @cached_property
    def data(self) -> bytes:
        if self._data is not None:
            return self._data
        ok, buf = cv2.imencode(".png", cv2.cvtColor(self.rgb, cv2.COLOR_RGB2BGR))
        if not ok:  # pragma: no cover - OpenCV encodes any uint8 RGB array
            raise BadImageError(f"{self.origin}: could not encode as PNG")
        return buf.tobytes()

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


class ImageLoader:
    """Loads images from paths under the allowed roots, base64 or data URLs, within the limits."""

    def __init__(self, roots: list[Path] | None = None, limits: ImageLimits | None = None) -> None:
        self.roots = [Path(r).resolve() for r in (roots if roots is not None else default_roots())]
        self.limits = limits or ImageLimits()
        self._cache: OrderedDict[tuple[object, ...], LoadedImage] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, source: ImageInput, label: str = "image") -> LoadedImage:
        if isinstance(source, np.ndarray):
            image = LoadedImage.from_array(source, label)
            self._check_side(image.width, image.height, label)
            return image
        if isinstance(source, bytes):
            return self._decode(source, label)
        if isinstance(source, Path):
            return self._load_path(str(source), label)
        if not isinstance(source, str) or not source:
            raise BadImageError(f"{label}: expected a path, base64 string or data URL, got {type(source).__name__}")
        text = source.strip()
        if is_data_url(text) or len(text) > _PATH_MAX or text.startswith(("iVBORw0KGgo", "/9j/")) or "\n" in text:
            return self._decode(self._from_text(text, label), label)
        return self._load_path(text, label)

    def load_views(self, images: Mapping[str, ImageInput], what: str = "images",
                   map_views: MapViews = map) -> dict[str, LoadedImage]:
        """Every view loaded (decoded in parallel when `map_views` is a thread pool's map)."""
        if not images:
            raise BadImageError(f"{what}: no images given (expected {{view: image}})")
        return dict(zip(images, map_views(lambda view: self.load(images[view], f"{what}[{view}]"), images)))

    # ------------------------------------------------------------------------------------------
    def _load_path(self, text: str, label: str) -> LoadedImage:
        resolved = self._resolve(text, label)
        stat = resolved.stat()
        key = ("path", str(resolved), stat.st_mtime_ns, stat.st_size)
        if (hit := self._cached(key)) is not None:
            return hit
        if stat.st_size > self.limits.max_bytes:
            raise ImageTooLargeError(f"{label}: file is {stat.st_size} bytes, over the {self.limits.max_bytes}-byte limit")
        image = self._decode(resolved.read_bytes(), f"{label} ({text})")
        if image.source is not None and image.source != resolved:  # the same bytes at another path: its own side files
            image = LoadedImage(image.rgb, image.alpha, image._data, image.mime, image.origin)
        image.source = resolved
        return self._store(key, image)

    def _cached(self, key: tuple[object, ...]) -> LoadedImage | None:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        return None

    def _store(self, key: tuple[object, ...], image: LoadedImage) -> LoadedImage:
        """Keep `image`, then drop the least recently used until the cache fits its budget again.

        What the checks derive from an image grows after it is stored, so the budget is settled
        here, at the next store, from what each image holds now."""
        with self._lock:
            if image.nbytes <= self.limits.cache_bytes:
                self._cache[key] = image
            held = self._held()
            while self._cache and held > self.limits.cache_bytes:
                _, dropped = self._cache.popitem(last=False)
                if all(kept is not dropped for kept in self._cache.values()):  # not also under another key
                    held -= dropped.nbytes
        return image

    def cached_bytes(self) -> int:
        with self._lock:
            return self._held()

    def _held(self) -> int:
        """Bytes the cached images hold now (one image may sit under two keys); the caller holds the lock."""
        return sum({id(img): img.nbytes for img in self._cache.values()}.values())

    def resolve(self, text: str, label: str) -> Path:
        """An existing file under the allowed roots, for readers that decode the file themselves (drawings)."""
        return self._resolve(text, label)

    def _resolve(self, text: str, label: str) -> Path:
        path = Path(text).expanduser()
        try:
            resolved = path.resolve(strict=True)
        except FileNotFoundError:
            raise ImageNotFoundError(f"{label}: no such file: {text}") from None
        except (OSError, RuntimeError) as e:  # symlink loops, permission
            raise ImageNotFoundError(f"{label}: cannot resolve {text}: {e}") from None
        if not any(resolved.is_relative_to(root) for root in self.roots):
            roots = ", ".join(str(r) for r in self.roots)
            raise PathOutsideRootsError(f"{label}: {text} resolves to {resolved}, outside the allowed roots ({roots})")
        if not resolved.is_file():
            raise ImageNotFoundError(f"{label}: not a regular file: {text}")
        return resolved

    def _from_text(self, text: str, label: str) -> bytes:
        try:
            return decode_image_text(text, self.limits.max_bytes)
        except ImageDataTooLarge as e:
            raise ImageTooLargeError(f"{label}: {e}") from None
        except ImageDataError as e:
            raise BadImageError(f"{label}: {e}") from None

    def _decode(self, data: bytes, label: str) -> LoadedImage:
        if len(data) > self.limits.max_bytes:
            raise ImageTooLargeError(f"{label}: {len(data)} bytes, over the {self.limits.max_bytes}-byte limit")
        key = ("bytes", hashlib.blake2b(data, digest_size=16).digest())
        if (hit := self._cached(key)) is not None:
            return hit
        mime, width, height = _sniff(data, label)
        self._check_side(width, height, label)
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if decoded is None:
            raise BadImageError(f"{label}: corrupt {mime} data (OpenCV could not decode it)")
        if decoded.dtype == np.uint16:
            decoded = (decoded >> 8).astype(np.uint8)
        if decoded.ndim == 2:
            rgb, alpha = cv2.cvtColor(decoded, cv2.COLOR_GRAY2RGB), None
        elif decoded.shape[2] == 4:
            rgb, alpha = cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGB), _alpha_or_none(decoded[:, :, 3])
        else:
            rgb, alpha = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), None
        return self._store(key, LoadedImage(rgb, alpha, data, mime, label))

    def _check_side(self, width: int, height: int, label: str) -> None:
        if width > self.limits.max_side or height > self.limits.max_side:
            raise ImageTooLargeError(f"{label}: {width}×{height} px, over the {self.limits.max_side} px per side limit")
        if width < 1 or height < 1:
            raise BadImageError(f"{label}: empty image ({width}×{height})")


def _held_bytes(value: object) -> int:
    """Memory a memoised value holds: arrays and bytes, also inside tuples, dataclasses and images."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, LoadedImage):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_held_bytes(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(_held_bytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    return 0


def _alpha_or_none(alpha: np.ndarray) -> np.ndarray | None:
    return np.ascontiguousarray(alpha) if int(alpha.min()) < 255 else None


def _sniff(data: bytes, label: str) -> tuple[str, int, int]:
    """Format and size from the header alone."""
    if data.startswith(PNG_SIGNATURE):
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise BadImageError(f"{label}: truncated PNG header")
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data.startswith(b"\xff\xd8"):
        return ("image/jpeg", *_jpeg_size(data, label))
    raise BadImageError(f"{label}: not a PNG or JPEG (first bytes {data[:8]!r})")


def _jpeg_size(data: bytes, label: str) -> tuple[int, int]:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    raise BadImageError(f"{label}: corrupt JPEG (no frame header)")

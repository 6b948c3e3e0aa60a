"""Removes text chunks from a PNG so the same pixels always make the same file.

Blender's stamp flags cover date, render time and file name, but Cycles also writes its own
render statistics (`cycles.ViewLayer.render_time`, …) as tEXt chunks, which differ every run.
"""

from __future__ import annotations

import struct
from pathlib import Path

__all__ = ["strip_text_chunks"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt"})


def strip_text_chunks(path: Path) -> None:
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError(f"{path} is not a PNG")
    kept, offset = [PNG_SIGNATURE], len(PNG_SIGNATURE)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        end = offset + 12 + length  # length, type, data, crc
        if data[offset + 4 : offset + 8] not in TEXT_CHUNKS:
            kept.append(data[offset:end])
        offset = end
    stripped = b"".join(kept)
    if len(stripped) != len(data):
        path.write_bytes(stripped)

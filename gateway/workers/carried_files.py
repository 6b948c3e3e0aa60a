"""Files a worker wrote during a call, carried by value from its node to the gateway and back.

A Ray worker's disk is on its node, and a node can vanish: a path in its result (a render, a saved
.blend, a restore point) means nothing to the gateway. So the actor sends the bytes of every file
the call wrote under one of its named roots, and the gateway writes them under its own folder for
that root and rewrites the paths of the result to point there. Past that point a Ray worker's result
reads exactly like a local worker's, so the pool, the scenes and the coordinator keep one code path.
Baselines go the other way with the same type: bytes from the gateway's folder to the actor's.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel

__all__ = ["CarriedFile", "collect", "land", "rewrite"]

MAX_PATH_CHARS = 4096


class CarriedFile(BaseModel):
    """One file by value: which root it belongs to, where under it, and its bytes."""

    root: str
    relative: str
    data: bytes


def collect(value: Any, roots: dict[str, Path], since_ns: int) -> list[CarriedFile]:
    """The files named anywhere in `value` (a JSON-like tree) that lie under a root and were written
    at or after `since_ns` (a call's start): what the call produced, not the baselines it read."""
    found: dict[Path, CarriedFile] = {}
    for text in _strings(value):
        if not text.startswith("/") or len(text) > MAX_PATH_CHARS:
            continue
        path = Path(text)
        for name, root in roots.items():
            if path in found or not path.is_relative_to(root):
                continue
            try:
                if path.is_file() and path.stat().st_mtime_ns >= since_ns:
                    found[path] = CarriedFile(root=name, relative=str(path.relative_to(root)), data=path.read_bytes())
            except OSError:
                continue
    return list(found.values())


def land(files: list[CarriedFile], roots: dict[str, Path]) -> list[Path]:
    """Write each file under its root, atomically (a reader never sees half a file); returns the paths."""
    written = []
    for f in files:
        relative = PurePosixPath(f.relative)
        if f.root not in roots or relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"refused carried file {f.root}:{f.relative}: not a path inside a known root")
        target = roots[f.root] / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".carried.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(f.data)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        written.append(target)
    return written


def rewrite(value: Any, moves: dict[str, str]) -> Any:
    """`value` with every occurrence of a far root (key) replaced by the gateway's (value): plain
    paths and paths inside JSON text alike. The roots are unique temporary folders, so nothing else matches."""
    if isinstance(value, str):
        for old, new in moves.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [rewrite(v, moves) for v in value]
    if isinstance(value, dict):
        return {k: rewrite(v, moves) for k, v in value.items()}
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []

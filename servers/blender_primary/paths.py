"""Names given by clients, and the only way they become files on the worker's disk.

Baseline ids and output names are plain tokens (`^[A-Za-z0-9_-]{1,64}$`); a file a tool writes
is resolved strictly inside its folder, so `../x`, absolute paths and symlinks pointing out are
refused before anything is written.
"""

from __future__ import annotations

import re
from pathlib import Path

from servers.blender_primary.errors import BadIdError, BadPathError

__all__ = ["ID_PATTERN", "check_id", "resolve_inside"]

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_id(value: str, what: str = "id") -> str:
    """Return `value` if it is a valid id or file stem, else raise [BAD_ID]."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise BadIdError(f"{what} {value!r} is not allowed: use 1-64 characters from A-Z a-z 0-9 _ -")
    return value


def resolve_inside(folder: Path, name: str, suffix: str, what: str = "name") -> Path:
    """The file `<folder>/<name><suffix>`, guaranteed to lie inside `folder` even through symlinks."""
    check_id(name, what)
    root = folder.resolve()
    candidate = (root / f"{name}{suffix}").resolve()
    if candidate.parent != root:
        raise BadPathError(f"{what} {name!r} resolves outside {root} (symlink?); refused")
    return candidate

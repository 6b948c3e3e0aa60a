"""Where the user's colossus.toml is, and its raw tables; each package validates its own section."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["config_path", "load_config"]


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Explicit path, else $COLOSSUS_CONFIG, else ./colossus.toml, else ~/.config/colossus/config.toml."""
    if explicit:
        return Path(explicit)
    if env := os.environ.get("COLOSSUS_CONFIG"):
        return Path(env)
    for candidate in (Path("colossus.toml"), Path.home() / ".config" / "colossus" / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The parsed TOML (empty when there is no file). A named file that is missing or invalid is an error."""
    path = config_path(explicit)
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"invalid TOML in config file {path}: {e}") from e

"""litellm, imported on first use: it costs ~3 s to import, and with its bundled cost map it never
reaches for the network (DESIGN.md, "Numbers that need care"). Every module that calls litellm
takes it from here, so that setting is made in one place."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["litellm"]


def litellm() -> Any:
    """The litellm module, imported now if it was not yet."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm as module  # noqa: PLC0415 - on first use only

    return module

"""How long one call may wait for a run or a finalize job before it answers: a host's call must
not block longer than ~50 s (Claude Desktop's limit), so every bounded wait stops at MAX_WAIT_S."""

from __future__ import annotations

__all__ = ["MAX_WAIT_S"]

MAX_WAIT_S = 45.0

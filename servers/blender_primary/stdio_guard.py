"""Keeps the stdio JSON-RPC stream clean of Blender's own prints.

Blender writes to file descriptor 1 from C (`Read blend: ...`, `Saved: '...png'` after a render,
Cycles progress), bypassing sys.stdout. So before bpy is imported, the protocol gets a private
duplicate of fd 1 and fd 1 itself is pointed at stderr. mcp's `stdio_server()` claims fd 1 only
when it starts, after the lifespan has already loaded the empty baseline, which prints; we hand
it the private duplicate as an explicit stream instead.
"""

from __future__ import annotations

import os
import sys

__all__ = ["divert_stdout"]


def divert_stdout() -> int:
    """Point fd 1 (and sys.stdout) at stderr; return a private fd that still reaches the real stdout."""
    sys.stdout.flush()
    wire_fd = os.dup(1)
    os.set_inheritable(wire_fd, False)
    os.dup2(2, 1)
    return wire_fd

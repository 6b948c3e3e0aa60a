"""Stops a snippet from ending the worker through Blender's own quit operator.

`sys.exit`, `exit()` and `quit()` raise SystemExit, which the executor catches. But
`bpy.ops.wm.quit_blender()` exits from C. Every operator call goes through the module global
`bpy.ops._op_call`, so wrapping it once refuses the quit operator however the snippet reached it
(its own `import bpy` included). `os._exit` and signals can still end the process: the gateway
notices and respawns the worker.
"""

from __future__ import annotations

import bpy.ops

__all__ = ["QuitRefused", "install_exit_guard"]

REFUSED_OPERATORS = frozenset({"wm.quit_blender"})


class QuitRefused(SystemExit):
    """Raised instead of running a quit operator; a SystemExit so the executor treats it like sys.exit."""


def install_exit_guard() -> None:
    original = bpy.ops._op_call
    if getattr(original, "_colossus_guard", False):
        return

    def guarded_call(idname_py: str, *args):
        if idname_py in REFUSED_OPERATORS:
            raise QuitRefused(f"bpy.ops.{idname_py}() is refused inside a Colossus worker")
        return original(idname_py, *args)

    guarded_call._colossus_guard = True  # type: ignore[attr-defined]
    bpy.ops._op_call = guarded_call

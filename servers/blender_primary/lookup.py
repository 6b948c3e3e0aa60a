"""Finding things by the name a client typed, and naming the nearest ones when it is wrong.

Models misspell names ("Cube.1", "cube"); an error that lists the closest real names lets the
next call succeed. One place for this, so every tool suggests names the same way.
"""

from __future__ import annotations

import difflib

import bpy

from servers.blender_primary.errors import UnknownObjectError

__all__ = ["closest", "find_object"]


def closest(word: str, choices: list[str], limit: int = 8) -> list[str]:
    """Choices containing `word` (case-insensitive) first, then the nearest spellings."""
    folded = word.casefold()
    contained = [choice for choice in choices if folded and folded in choice.casefold()]
    near = difflib.get_close_matches(word, choices, n=limit, cutoff=0.45)
    return list(dict.fromkeys(contained + near))[:limit]


def find_object(name: str) -> bpy.types.Object:
    """The object called `name` in the current scene, or [UNKNOWN_OBJECT] listing the closest names."""
    obj = bpy.context.scene.objects.get(name)
    if obj is None:
        names = [o.name for o in bpy.context.scene.objects]
        hint = ", ".join(closest(name, names)) or (
            "none; objects: " + ", ".join(names[:20]) if names else "none; the scene has no objects"
        )
        raise UnknownObjectError(f"no object named {name!r}; closest: {hint}")
    return obj

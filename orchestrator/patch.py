"""Applying a unified diff a fixer model sent instead of a full program (the healer's "smallest change").

Hunks are applied in order; every context and removed line must match the program exactly, so a
diff against some other text fails loudly (a ModelFault the next fix attempt is told about).
"""

from __future__ import annotations

import re

from orchestrator.errors import ModelFault

__all__ = ["PatchError", "apply_unified_diff"]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(ModelFault):
    """The diff does not apply to the program it was meant for."""


def apply_unified_diff(original: str, diff: str) -> str:
    lines = original.splitlines()
    out: list[str] = []
    cursor = 0  # next unconsumed line of `lines`
    hunks = 0
    body = diff.splitlines()
    i = 0
    while i < len(body):
        m = _HUNK.match(body[i])
        i += 1
        if m is None:
            continue  # headers (---, +++) and chatter between hunks
        hunks += 1
        start = max(int(m.group(1)) - 1, 0) if m.group(2) != "0" else int(m.group(1))
        if start < cursor:
            raise PatchError(f"hunk {hunks} overlaps the previous one")
        out += lines[cursor:start]
        cursor = start
        while i < len(body) and not body[i].startswith("@@"):
            tag, text = (body[i][:1], body[i][1:]) if body[i] else (" ", "")
            if tag == "\\":
                pass  # "\ No newline at end of file"
            elif tag == "+":
                out.append(text)
            elif tag in (" ", "-"):
                if cursor >= len(lines) or lines[cursor] != text:
                    got = lines[cursor] if cursor < len(lines) else "<end of program>"
                    raise PatchError(f"hunk {hunks}: expected line {cursor + 1} to be {text!r}, the program has {got!r}")
                if tag == " ":
                    out.append(text)
                cursor += 1
            else:
                break
            i += 1
    if hunks == 0:
        raise PatchError("the diff has no @@ hunks")
    return "\n".join(out + lines[cursor:]) + "\n"

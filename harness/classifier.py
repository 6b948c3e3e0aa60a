"""Sorts a failure into the ErrorClass a fixer needs.

Blender reports most of its refusals as RuntimeError with a telling message ("poll() failed,
context is incorrect", "Cannot read file ..."), so the class comes from the exception's type
hierarchy first and its message second. Works on a live exception or, across a process
boundary, on the type name and message alone.
"""

from __future__ import annotations

import re

from harness.report import ErrorClass

__all__ = ["classify", "classify_exception", "classify_exit"]

_BY_TYPE: dict[str, ErrorClass] = {
    "SyntaxError": ErrorClass.SYNTAX,
    "IndentationError": ErrorClass.SYNTAX,
    "TabError": ErrorClass.SYNTAX,
    "SnippetTimeout": ErrorClass.TIMEOUT,
    "TimeoutError": ErrorClass.TIMEOUT,
    "MemoryError": ErrorClass.RESOURCE,
    "OSError": ErrorClass.RESOURCE,
}
_CONTEXT = re.compile(
    r"poll\(\) failed|context is incorrect|incorrect context|'Context' object has no attribute"
    r"|edit ?mode|object ?mode|must be in .* mode|mode_set|not in .* mode|active object",
    re.IGNORECASE,
)
_RESOURCE = re.compile(
    r"cannot read|can't read|no such file|cannot open|unable to open|file not found|not a blend file"
    r"|out of memory|cannot allocate|permission denied",
    re.IGNORECASE,
)


def classify(type_names: str | list[str], message: str) -> ErrorClass:
    """`type_names`: the exception's type name, or its MRO names (most specific first)."""
    names = [type_names] if isinstance(type_names, str) else list(type_names)
    for name in names:
        if name in _BY_TYPE:
            return _BY_TYPE[name]
    if _CONTEXT.search(message):
        return ErrorClass.BLENDER_CONTEXT
    if _RESOURCE.search(message):
        return ErrorClass.RESOURCE
    if any(n in ("Exception", "SystemExit") or n.endswith(("Error", "Exception", "Exit")) for n in names):
        return ErrorClass.RUNTIME
    return ErrorClass.UNKNOWN


def classify_exception(exc: BaseException) -> ErrorClass:
    return classify([cls.__name__ for cls in type(exc).__mro__], str(exc))


def classify_exit(killed_for: str | None = None) -> ErrorClass:
    """A worker that died under a snippet: TIMEOUT or RESOURCE when the watchdog killed it for that, else CRASH."""
    return {"timeout": ErrorClass.TIMEOUT, "memory": ErrorClass.RESOURCE}.get(killed_for or "", ErrorClass.CRASH)

"""The worker's corrective and geometry-node tools, callable from bpy code as `tools.<name>(...)`.

A tool-using builder's tool call must replay from the baseline like any program, so the
coordinator records it as one line of code (`tools.transform_to_floor(names=['Cube'])`) and
the live call runs that same line. Each callable here is the MCP tool itself: the same argument
validation, defaults and body hosts get, so a host's call, a model's call and a replay cannot
drift apart. The result comes back as a dict and is printed as one JSON line, which is what a
model reads as the tool's answer. Nothing here reaches outside the scene, so `tools` is offered
under the `block` code policy too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastmcp import FastMCP
from fastmcp.utilities.types import get_cached_typeadapter
from pydantic import BaseModel, ValidationError

from harness.scene_types import SNIPPET_TOOLS
from servers.blender_primary.errors import BadArgumentError

__all__ = ["SnippetTools"]



class SnippetTools:
    """`tools` in a snippet's namespace: attribute access gives a synchronous callable per tool."""

    def __init__(self, functions: dict[str, Callable[..., Any]]) -> None:
        self._functions = functions

    @classmethod
    async def from_server(cls, mcp: FastMCP) -> "SnippetTools":
        """The SNIPPET_TOOLS the server registered (their bodies never await: see server.py's rules)."""
        return cls({name: (await mcp.get_tool(name)).fn for name in SNIPPET_TOOLS})

    def __getattr__(self, name: str) -> Callable[..., Any]:
        fn = self.__dict__.get("_functions", {}).get(name)
        if fn is None:
            raise AttributeError(f"tools.{name} does not exist; snippet tools: {', '.join(SNIPPET_TOOLS)}")

        def call(**arguments: Any) -> Any:
            result = _run(name, fn, arguments)
            print(json.dumps({"tool": name, "result": result}, default=str))
            return result

        call.__name__ = name
        return call

    def __dir__(self) -> list[str]:
        return list(SNIPPET_TOOLS)


def _run(name: str, fn: Callable[..., Any], arguments: dict[str, Any]) -> Any:
    try:
        coroutine = get_cached_typeadapter(fn).validate_python(arguments)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(arguments)'}: {err['msg']}" for err in e.errors())
        raise BadArgumentError(f"tools.{name}: {problems}") from None
    try:
        coroutine.send(None)
    except StopIteration as done:
        value = done.value
        return value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    coroutine.close()
    raise RuntimeError(f"tools.{name} awaited inside its body; snippet tools must finish synchronously")

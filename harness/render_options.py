"""Render options as flat tool arguments: RenderSettings' fields, one MCP argument each.

Hosts call `render_pack(scene_id, views=[...], resolution=64)`. A tool declares one parameter
`render: RenderSettings` and is decorated with `render_options(...)`: the MCP schema shows the
settings' fields in its place, with their names, types, defaults and limits taken from
RenderSettings (harness.scene_types), so every tool that renders offers the same options, written
once. A server may cap some of them lower (the gateway does: a host call must end in ~50 s).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar, get_type_hints

from pydantic import Field
from pydantic.fields import FieldInfo

from harness.scene_types import RenderSettings

__all__ = ["render_options"]

T = TypeVar("T")
Tool = Callable[..., Awaitable[T]]


def _option(name: str, field: FieldInfo, cap: int | None) -> inspect.Parameter:
    metadata = [m for m in field.metadata if cap is None or getattr(m, "le", None) is None]  # the cap replaces le
    metadata.append(Field(le=cap, description=field.description))
    annotation, default = field.annotation, field.default
    if field.default_factory is not None:  # a list built per call: optional here, null meaning that default
        annotation, default = annotation | None, None
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[(annotation, *metadata)])


def render_options(caps: Mapping[str, int] | None = None) -> Callable[[Tool[T]], Tool[T]]:
    """Offer a tool's `render: RenderSettings` parameter as RenderSettings' fields; `caps` lowers maxima."""
    caps = dict(caps or {})
    if unknown := caps.keys() - RenderSettings.model_fields.keys():
        raise ValueError(f"render_options caps name no RenderSettings field: {sorted(unknown)}")
    options = [_option(name, field, caps.get(name)) for name, field in RenderSettings.model_fields.items()]

    def decorate(tool: Tool[T]) -> Tool[T]:
        hints = get_type_hints(tool, include_extras=True)
        params: list[inspect.Parameter] = []
        for param in inspect.signature(tool).parameters.values():
            if param.name == "render":
                params += options
            else:  # all by keyword: MCP passes arguments by name, and the options may sit between defaults
                params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[param.name]))

        @functools.wraps(tool)
        async def with_options(**arguments: Any) -> T:
            given = {name: arguments.pop(name) for name in RenderSettings.model_fields if name in arguments}
            render = RenderSettings(**{name: value for name, value in given.items() if value is not None})
            return await tool(render=render, **arguments)

        with_options.__signature__ = inspect.Signature(params, return_annotation=hints["return"])  # type: ignore[attr-defined]
        with_options.__annotations__ = {p.name: p.annotation for p in params} | {"return": hints["return"]}
        return with_options

    return decorate

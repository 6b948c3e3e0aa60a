"""Render options: RenderSettings' fields as flat tool arguments, through a real in-memory MCP client."""

from __future__ import annotations

from typing import Any

import pytest
from fastmcp import Client, FastMCP
from fastmcp.exceptions import ToolError

from harness.render_options import render_options
from harness.scene_types import RenderSettings


def echo_app(caps: dict[str, int] | None = None) -> FastMCP:
    app = FastMCP("echo")

    @app.tool
    @render_options(caps)
    async def echo(label: str, render: RenderSettings, repeat: int = 1) -> dict[str, Any]:
        """Returns what it was given."""
        return {"label": label * repeat, "render": render.model_dump(mode="json")}

    return app


async def test_flat_arguments_reach_the_tool_as_one_render_settings() -> None:
    async with Client(echo_app()) as client:
        got = (await client.call_tool("echo", {"label": "a", "views": ["top"], "resolution": 64, "repeat": 2})).structured_content
    assert got["label"] == "aa"
    assert RenderSettings.model_validate(got["render"]) == RenderSettings(views=["top"], resolution=64)


async def test_omitted_or_null_options_take_the_render_settings_defaults() -> None:
    async with Client(echo_app()) as client:
        got = (await client.call_tool("echo", {"label": "a", "views": None, "samples": None})).structured_content
    assert RenderSettings.model_validate(got["render"]) == RenderSettings()


async def test_the_schema_shows_the_settings_fields_with_their_limits_and_no_render_object() -> None:
    tool = next(t for t in await echo_app().list_tools() if t.name == "echo")
    props = tool.parameters["properties"]
    assert set(RenderSettings.model_fields) | {"label", "repeat"} == set(props)
    assert props["resolution"] == {"default": 256, "minimum": 16, "maximum": 4096, "type": "integer"}
    assert tool.parameters["required"] == ["label"]


async def test_a_cap_lowers_a_maximum_and_a_value_above_it_is_refused_naming_the_argument() -> None:
    async with Client(echo_app({"resolution": 2048})) as client:
        with pytest.raises(ToolError, match=r"resolution[\s\S]*less than or equal to 2048"):
            await client.call_tool("echo", {"label": "a", "resolution": 4096})
        got = (await client.call_tool("echo", {"label": "a", "resolution": 2048})).structured_content
    assert got["render"]["resolution"] == 2048


def test_a_cap_on_no_such_option_is_an_error() -> None:
    with pytest.raises(ValueError, match="resolutoin"):
        render_options({"resolutoin": 512})

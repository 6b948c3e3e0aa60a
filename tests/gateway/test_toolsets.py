"""Toolsets: the default list is `core`, small enough for a host's every turn; the rest is one flag or one
enable_toolset call away, and a bad name says which ones exist."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import mcp_types
import pytest
from fastmcp import Client
from fastmcp.client.messages import MessageHandler
from fastmcp.exceptions import ToolError

from gateway.config import GatewayConfig
from gateway.errors import ConfigError
from gateway.server import create_gateway
from gateway.services import RESERVED_NAMESPACES
from gateway.tools.toolsets import ALL, STATIC_TOOLSETS
from harness.launcher import WorkerLaunch
from tests.gateway.conftest import ECHO_SERVER, gateway_config

PROJECT = Path(__file__).resolve().parents[2]
CORE_TOOLS = {"start_run", "get_run", "run_attempt", "reset_to_baseline", "render_pack", "verify", "release_scene",
              "execute_code", "enable_toolset", "mesh_status"}
RUNS_TOOLS = {"list_runs", "cancel_run", "resume_run", "fork_run", "get_iteration"}


class ListChanges(MessageHandler):
    def __init__(self) -> None:
        self.seen = 0

    async def on_tool_list_changed(self, message: mcp_types.ToolListChangedNotification) -> None:
        self.seen += 1


def default_config(workdir: Path, **gateway: object) -> GatewayConfig:
    """No worker, no vision; an echo MCP server configured as `echo`; [gateway] as given (else the default)."""
    config = gateway_config(workdir, pool={"workers": 0},
                            mcpServers={"echo": {"command": sys.executable, "args": [str(ECHO_SERVER)]}})
    config.gateway = type(config.gateway).model_validate(gateway)
    return config


@pytest.fixture
async def changes() -> ListChanges:
    return ListChanges()


@pytest.fixture
async def client(tmp_path: Path, changes: ListChanges) -> AsyncIterator[Client]:
    async with Client(create_gateway(default_config(tmp_path)), message_handler=changes) as connected:
        yield connected


async def names(client: Client) -> set[str]:
    return {t.name for t in await client.list_tools()}


async def test_a_host_sees_the_core_toolset_by_default(client: Client) -> None:
    assert await names(client) == CORE_TOOLS
    refused = await client.call_tool_mcp("list_runs", {})
    assert refused.is_error and "Unknown tool" in refused.content[0].text, "a tool of a toolset that is off is not callable"


async def test_enable_toolset_turns_runs_on_for_the_session_and_tells_the_host(client: Client, changes: ListChanges) -> None:
    said = (await client.call_tool("enable_toolset", {"name": "runs"})).content[0].text
    assert "'runs' is on" in said
    await asyncio.sleep(0.1)
    assert changes.seen == 1
    assert await names(client) == CORE_TOOLS | RUNS_TOOLS
    reached = await client.call_tool_mcp("list_runs", {})  # it runs now (no vision server here, so no coordinator)
    assert reached.content[0].text.startswith("[COORDINATOR_UNAVAILABLE]")
    again = (await client.call_tool("enable_toolset", {"name": "runs"})).content[0].text
    await asyncio.sleep(0.1)
    assert "already on" in again and changes.seen == 1, "enabling twice changes nothing"


async def test_without_a_name_enable_toolset_lists_every_toolset_with_its_token_cost(client: Client) -> None:
    listing = (await client.call_tool("enable_toolset", {})).content[0].text.splitlines()
    assert [line.split(" ")[0] for line in listing] == [*STATIC_TOOLSETS, "echo"]
    core = next(line for line in listing if line.startswith("core "))
    assert "(on, 10 tools, " in core
    tokens = int(core.split(" tools, ")[1].split(" tokens")[0].replace(",", ""))
    assert 1_000 < tokens <= 4_000, core
    assert next(line for line in listing if line.startswith("runs ")).startswith("runs (off, 5 tools, ")


async def test_an_unknown_toolset_is_a_tool_error_naming_the_valid_ones(client: Client) -> None:
    with pytest.raises(ToolError, match=r"unknown toolset 'nope'; valid: core, runs, assets, blender, geonodes, vision, echo"):
        await client.call_tool("enable_toolset", {"name": "nope"})


async def test_a_configured_mcp_server_is_a_toolset_named_by_its_prefix(client: Client) -> None:
    assert not any(n.startswith("echo_") for n in await names(client))
    await client.call_tool("enable_toolset", {"name": "echo"})
    assert {"echo_echo", "echo_pid"} <= await names(client)
    assert (await client.call_tool("echo_echo", {"text": "hi"})).data == "hi"


async def test_toolsets_chosen_at_start_are_on_and_all_turns_every_one_on(tmp_path: Path) -> None:
    async with Client(create_gateway(default_config(tmp_path / "a", toolsets=["core", "runs"]))) as client:
        assert await names(client) == CORE_TOOLS | RUNS_TOOLS
    async with Client(create_gateway(default_config(tmp_path / "b", toolsets=[ALL]))) as client:
        listed = await names(client)
    assert CORE_TOOLS | RUNS_TOOLS | {"finalize_asset", "get_finalize", "echo_echo"} <= listed


def test_an_unknown_toolset_in_the_config_names_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown toolset 'gizmos'; valid: core, runs, .*echo, all"):
        create_gateway(default_config(tmp_path, toolsets=["core", "gizmos"]))


def test_serve_with_an_unknown_toolset_exits_2_with_the_valid_names(tmp_path: Path) -> None:
    config = tmp_path / "colossus.toml"
    config.write_text(f'[pool]\nworkers = 0\nworkdir = "{(tmp_path / "pool").as_posix()}"\n[vision]\nenabled = false\n')
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "serve", "--config", str(config), "--toolsets", "core,nope"],
                          cwd=PROJECT, env=WorkerLaunch(workdir=tmp_path).env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "unknown toolset 'nope'; valid: core, runs, assets, blender, geonodes, vision, all" in done.stderr


def test_no_mcp_server_can_take_a_toolset_name() -> None:
    assert set(STATIC_TOOLSETS) | {ALL} == RESERVED_NAMESPACES


async def test_the_default_list_is_within_budget_and_all_offers_every_tool(tmp_path: Path) -> None:
    """bench/tools.py's measurement: a worker and the vision server up, so every tool is listed."""
    from bench.tools import list_tools, summarise

    default = summarise(await list_tools(None, tmp_path / "default"))
    every = summarise(await list_tools(ALL, tmp_path / "all"))
    assert default["model_visible"] <= 4_000 and default["whole"] <= 10_000, default
    assert every["tools"] >= 50 and set(every["toolsets"]) == set(STATIC_TOOLSETS), every["toolsets"]
    assert {t["name"] for t in every["per_tool"]} >= CORE_TOOLS | RUNS_TOOLS | {"vision_check", "blender_gn_describe"}

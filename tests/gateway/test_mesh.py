"""Upstream MCP servers mounted on the gateway: names, collisions, and servers that fail or die."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from gateway.mesh import allocate_namespace, tool_name
from gateway.server import create_gateway
from tests.gateway.conftest import ECHO_SERVER, gateway_config

ECHO = {"command": sys.executable, "args": [str(ECHO_SERVER)]}


@pytest.fixture(scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    servers = {"echo": ECHO, "get": ECHO, "vision": ECHO, "broken": {"command": "/nonexistent/mcp-server"}}
    app = create_gateway(gateway_config(tmp_path_factory.mktemp("mesh"), pool={"workers": 0}, mcpServers=servers))
    async with Client(app) as connected:
        yield connected


async def status_of(client: Client, name: str) -> dict[str, Any]:
    status = (await client.call_tool("mesh_status", {})).structured_content
    return next(u for u in status["upstreams"] if u["name"] == name)


async def test_user_servers_are_mounted_under_their_names_with_valid_tool_names(client: Client) -> None:
    names = {t.name for t in await client.list_tools()}
    assert {"echo_echo", "echo_pid", "echo_run"} <= names
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,63}", n) for n in names)
    assert any(n.startswith("echo_weird_name_with_spaces_") for n in names)
    assert (await client.call_tool("echo_echo", {"text": "hello"})).data == "hello"


async def test_name_collisions_are_resolved_by_namespace_never_fatal(client: Client) -> None:
    names = {t.name for t in await client.list_tools()}
    assert "vision_2_echo" in names, "a user server called `vision` gets its own namespace"
    clashing = [n for n in names if re.fullmatch(r"get_run_+[0-9a-f]{8}", n)]
    assert len(clashing) == 1, "get's `run` tool moved aside for the gateway's get_run"
    assert (await client.call_tool(clashing[0], {})).data == "echo's run"
    with pytest.raises(ToolError, match=r"^\[COORDINATOR_UNAVAILABLE\]"):  # the gateway's own get_run answered
        await client.call_tool("get_run", {"run_id": "no-such-run"})


async def test_a_server_that_cannot_start_is_reported_and_the_gateway_still_serves(client: Client) -> None:
    broken = await status_of(client, "broken")
    assert broken["state"] == "unavailable" and "nonexistent" in broken["error"]
    assert not broken["tools"] and broken["retry_in_s"] is not None
    assert (await client.call_tool("echo_echo", {"text": "still here"})).data == "still here"


async def test_a_server_that_dies_is_reported_then_reconnected(client: Client) -> None:
    pid = (await client.call_tool("echo_pid", {})).data
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.3)
    with pytest.raises(ToolError, match=r"^\[UPSTREAM_UNAVAILABLE\] MCP server 'echo'"):
        await client.call_tool("echo_echo", {"text": "x"})
    for _ in range(100):
        echo = await status_of(client, "echo")
        if echo["state"] == "available" and echo["restarts"] >= 1:
            break
        await asyncio.sleep(0.2)
    assert echo["state"] == "available" and echo["restarts"] >= 1, echo
    assert (await client.call_tool("echo_pid", {})).data != pid
    assert (await client.call_tool("echo_echo", {"text": "back"})).data == "back"


def test_tool_names_are_sanitised_and_truncated_to_63_characters() -> None:
    assert tool_name("vision", "sentinel") == "vision_sentinel"
    long = tool_name("srv", "x" * 100)
    assert len(long) == 63 and re.fullmatch(r"[A-Za-z0-9_-]+", long)
    assert tool_name("srv", "x" * 100) != tool_name("srv", "x" * 101)
    assert re.fullmatch(r"srv_a_b_c_[0-9a-f]{8}", tool_name("srv", "a.b c"))


def test_namespaces_are_unique_and_reserved_ones_are_avoided() -> None:
    taken = {"blender", "vision"}
    assert [allocate_namespace(n, taken) for n in ("vision", "vision", "my server", "blender")] == [
        "vision_2", "vision_3", "my-server", "blender_2"]

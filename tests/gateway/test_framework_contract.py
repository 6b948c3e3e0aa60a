"""What the gateway's toolsets and tasks rely on from fastmcp and fastmcp-tasks, pinned on a tiny server.

Toolsets: tools carry one tag each; the server disables the tags not chosen, and a session turns one
on with `ctx.enable_components(tags=...)`, which makes its tools listed and callable for that session
only and sends notifications/tools/list_changed. Tasks: a `task=True` tool on a server with the
TasksExtension runs as a task for a client that declares io.modelcontextprotocol/tasks (2026-07-28),
inline for one that does not; tasks/cancel cancels the tool's coroutine; an unknown task id is the
protocol's invalid-params error. fastmcp-tasks is published up to 4.1.4 and pins fastmcp-slim to
that version: these tests are what says it still works with the fastmcp installed here.
"""

from __future__ import annotations

import asyncio

import mcp_types
import pytest
from fastmcp import Client, FastMCP
from fastmcp.client.messages import MessageHandler
from fastmcp.server.context import Context
from mcp import MCPError

from tests.gateway.conftest import PollingClient

fastmcp_tasks = pytest.importorskip("fastmcp_tasks")


class ListChanges(MessageHandler):
    def __init__(self) -> None:
        self.seen = 0

    async def on_tool_list_changed(self, message: mcp_types.ToolListChangedNotification) -> None:
        self.seen += 1


def tagged_server() -> FastMCP:
    mcp = FastMCP("contract")

    @mcp.tool(tags={"core"})
    async def open_more(ctx: Context) -> str:
        await ctx.enable_components(tags={"extra"}, components={"tool"})
        return "on"

    @mcp.tool(tags={"extra"})
    async def extra_tool() -> str:
        return "extra"

    mcp.disable(tags={"extra"})
    return mcp


async def test_a_session_turns_a_tag_on_for_itself_and_is_told_the_list_changed() -> None:
    server, changes = tagged_server(), ListChanges()
    async with Client(server, message_handler=changes) as first:
        assert [t.name for t in await first.list_tools()] == ["open_more"]
        refused = await first.call_tool_mcp("extra_tool", {})
        assert refused.is_error, "a disabled tool is not callable either"
        await first.call_tool("open_more", {})
        await asyncio.sleep(0.1)
        assert {t.name for t in await first.list_tools()} == {"open_more", "extra_tool"}
        assert (await first.call_tool("extra_tool", {})).data == "extra"
        assert changes.seen >= 1


def task_server(events: list[str]) -> FastMCP:
    mcp = FastMCP("contract-tasks")
    mcp.add_extension(fastmcp_tasks.TasksExtension())

    @mcp.tool(task=True)
    async def long_job(seconds: float, ctx: Context) -> dict[str, object]:
        events.append("started")
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise
        return {"slept": seconds, "as_task": ctx.is_background_task}

    return mcp


async def test_a_task_tool_is_a_task_only_for_a_client_that_declares_the_extension() -> None:
    server = task_server([])
    async with Client(server) as declaring, PollingClient(server) as polling:
        assert declaring.protocol_version == "2026-07-28" == polling.protocol_version
        task = await fastmcp_tasks.call_tool_task(declaring, "long_job", {"seconds": 0.2})
        assert (await task.status()).status in ("working", "completed")
        assert (await task.result()).structured_content == {"slept": 0.2, "as_task": True}
        inline = await polling.call_tool("long_job", {"seconds": 0.0})
        assert inline.structured_content == {"slept": 0.0, "as_task": False}


async def test_cancelling_a_task_cancels_its_coroutine_and_an_unknown_task_is_invalid_params() -> None:
    events: list[str] = []
    async with Client(task_server(events)) as client:
        task = await fastmcp_tasks.call_tool_task(client, "long_job", {"seconds": 60})
        for _ in range(50):
            if events:
                break
            await asyncio.sleep(0.05)
        await task.cancel()
        assert (await task.wait(timeout=10)).status == "cancelled"
        await asyncio.sleep(0.2)
        assert events == ["started", "cancelled"]
        with pytest.raises(MCPError) as unknown:
            await fastmcp_tasks.ToolTask(client, "long_job", task.create_result.model_copy(update={"task_id": "nope"})).status()
    assert unknown.value.error.code == mcp_types.INVALID_PARAMS

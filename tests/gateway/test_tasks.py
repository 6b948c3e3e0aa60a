"""Long jobs as protocol tasks (io.modelcontextprotocol/tasks, 2026-07-28): a client that declares the
extension gets a task whose result is get_run's at the end, and cancelling it cancels the run, which
stays resumable; a client that does not declare it keeps its handle to poll."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import mcp_types
import pytest
from fastmcp import Client, FastMCP
from fastmcp.client.transports import StdioTransport
from mcp import MCPError

from gateway.server import create_gateway
from harness.launcher import WorkerLaunch
from tests.gateway.conftest import PollingClient, gateway_config

fastmcp_tasks = pytest.importorskip("fastmcp_tasks")

PROJECT = Path(__file__).resolve().parents[2]
CUBE = PROJECT / "tests" / "orchestrator" / "data" / "cube" / "task.toml"


@pytest.fixture(scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastMCP]:
    """One worker, the vision server on (runs need it), every toolset."""
    root = tmp_path_factory.mktemp("tasks")
    config = gateway_config(root, pool={"warm_spare": False}, vision={"enabled": True})
    app = create_gateway(config)
    async with PollingClient(app, timeout=60, init_timeout=120):  # the lifespan runs while the module's tests do
        yield app


async def settled(client: Client, run_id: str) -> dict:
    status = (await client.call_tool("get_run", {"run_id": run_id, "wait_s": 20})).structured_content
    while status["active"]:
        status = (await client.call_tool("get_run", {"run_id": run_id, "wait_s": 20})).structured_content
    return status


async def test_a_declaring_client_gets_a_task_whose_result_is_get_runs_at_the_end(app: FastMCP) -> None:
    async with Client(app, timeout=60) as declaring, PollingClient(app, timeout=60) as polling:
        task = await fastmcp_tasks.call_tool_task(declaring, "start_run", {"task": str(CUBE), "attempts": 1,
                                                                          "iterations": 2})
        assert (await task.status()).status == "working"
        result = await task.result()
        final = result.structured_content
        assert final["status"] == "completed" and not final["active"] and final["attempts"][0]["iterations"] == 2
        got = await polling.call_tool("get_run", {"run_id": final["run_id"]})
        assert got.structured_content == final, "the task's result is what get_run says at the end"
        assert [b.type for b in result.content].count("image") == 2, "with the best renders, as get_run"


async def test_a_client_that_does_not_declare_tasks_keeps_its_handle(app: FastMCP) -> None:
    async with PollingClient(app, timeout=60) as polling:
        started = (await polling.call_tool("start_run", {"task": str(CUBE), "attempts": 1, "iterations": 2})).structured_content
        assert set(started) == {"run_id"}
        assert (await settled(polling, started["run_id"]))["status"] == "completed"


async def test_cancelling_a_task_cancels_its_run_and_the_run_stays_resumable(app: FastMCP) -> None:
    async with Client(app, timeout=60) as declaring, PollingClient(app, timeout=60) as polling:
        task = await fastmcp_tasks.call_tool_task(declaring, "start_run", {"task": str(CUBE), "attempts": 1,
                                                                          "iterations": 50})
        runs = []
        while not runs:  # the run appears in the runs folder once the task has started it
            await asyncio.sleep(0.2)
            runs = [r for r in (await polling.call_tool("list_runs", {})).structured_content["runs"] if r["active"]]
        run_id = runs[0]["run_id"]
        await task.cancel()
        assert (await task.wait(timeout=30)).status == "cancelled"
        status = await settled(polling, run_id)
        assert status["status"] == "cancelled"
        resumed = await fastmcp_tasks.call_tool_task(declaring, "resume_run", {"run_id": run_id})
        deadline = time.monotonic() + 30  # the resumed task starts its run in the background (slower on a loaded machine)
        while not (active := (await polling.call_tool("get_run", {"run_id": run_id})).structured_content["active"]):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert active, "the resumed task runs the run again"
        await polling.call_tool("cancel_run", {"run_id": run_id})
        assert (await resumed.result()).structured_content["status"] == "cancelled", "the resumed task ends with its run"


async def test_an_unknown_task_is_the_protocols_invalid_params_error(app: FastMCP) -> None:
    async with Client(app, timeout=60) as declaring:
        task = await fastmcp_tasks.call_tool_task(declaring, "start_run", {"task": str(CUBE), "attempts": 1, "iterations": 1})
        stranger = fastmcp_tasks.ToolTask(declaring, "start_run", task.create_result.model_copy(update={"task_id": "no-such-task"}))
        with pytest.raises(MCPError) as refused:
            await stranger.status()
        assert refused.value.error.code == mcp_types.INVALID_PARAMS and "not found" in refused.value.error.message
        await task.result()


async def test_over_stdio_colossus_serve_runs_start_run_as_a_task(tmp_path: Path) -> None:
    config = tmp_path / "colossus.toml"
    config.write_text(f'[pool]\nworkers = 1\nworkdir = "{(tmp_path / "pool").as_posix()}"\nhealth_interval_s = 3600\n'
                      f'warm_spare = false\n[runs]\ndir = "{(tmp_path / "runs").as_posix()}"\n')
    transport = StdioTransport(sys.executable, ["-m", "gateway.cli", "serve", "--config", str(config)],
                               env=WorkerLaunch(workdir=tmp_path).env(), cwd=str(PROJECT), keep_alive=False,
                               log_file=tmp_path / "gateway.log")
    async with Client(transport, timeout=60, init_timeout=120) as declaring:
        assert declaring.protocol_version == "2026-07-28"
        task = await fastmcp_tasks.call_tool_task(declaring, "start_run", {"task": str(CUBE), "attempts": 1,
                                                                          "iterations": 1})
        final = (await task.result()).structured_content
    assert final["status"] == "completed" and final["attempts"][0]["iterations"] == 1

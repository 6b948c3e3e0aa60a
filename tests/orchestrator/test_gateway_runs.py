"""A run driven by a host through the gateway's tools: start_run → get_run (bounded wait) → list/cancel/resume."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from gateway.config import GatewayConfig
from gateway.server import create_gateway
from tests.gateway.conftest import PollingClient

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"
COLD = {"recall": False}  # the cube runs again and again here: recall would start each run at the answer


@pytest.fixture(scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    root = tmp_path_factory.mktemp("gw_runs")
    config = GatewayConfig.from_raw({"pool": {"workers": 1, "workdir": str(root / "pool"), "health_interval_s": 3600,
                                              "warm_spare": False}, "gateway": {"toolsets": ["all"]}})
    config.runs_dir = root / "runs"
    async with PollingClient(create_gateway(config), timeout=60, init_timeout=90) as connected:
        yield connected


async def test_a_host_starts_a_run_and_polls_it_to_the_end_with_renders(client: Client):
    started = await client.call_tool("start_run", {"task": str(CUBE), "attempts": 1, "iterations": 3, "max_tokens": 1000, **COLD})
    run_id = started.structured_content["run_id"]
    status = (await client.call_tool("get_run", {"run_id": run_id, "wait_s": 20})).structured_content
    while status["active"]:
        result = await client.call_tool("get_run", {"run_id": run_id, "wait_s": 20})
        status = result.structured_content
    assert status["status"] == "completed" and status["attempts"][0]["iterations"] == 3
    assert status["best"]["score"] == status["best_score"] > 0
    assert status["max_tokens"] == 1000 and status["spend"]["tokens"] == 0  # the offline builder spends nothing
    assert [b.type for b in result.content].count("image") == 2  # the best iteration's front and top renders
    listed = (await client.call_tool("list_runs", {})).structured_content["runs"]
    assert run_id in [r["run_id"] for r in listed]


async def test_a_host_cancels_and_resumes_a_run(client: Client):
    run_id = (await client.call_tool("start_run", {"task": str(CUBE), "attempts": 1, "iterations": 50, **COLD})).structured_content["run_id"]
    status = (await client.call_tool("get_run", {"run_id": run_id, "wait_s": 20})).structured_content
    cancelled = (await client.call_tool("cancel_run", {"run_id": run_id})).structured_content["status"]
    assert cancelled["status"] == "cancelled" and not cancelled["active"]
    kept = cancelled["attempts"][0]["iterations"]
    assert (await client.call_tool("resume_run", {"run_id": run_id})).structured_content == {"run_id": run_id}
    status = (await client.call_tool("get_run", {"run_id": run_id, "wait_s": 20})).structured_content
    assert status["active"] and status["attempts"][0]["iterations"] >= kept
    await client.call_tool("cancel_run", {"run_id": run_id})


async def test_unknown_runs_and_bad_tasks_are_clear_tool_errors(client: Client):
    with pytest.raises(ToolError, match="no run"):
        await client.call_tool("get_run", {"run_id": "2020-01-01T00-00-00Z_nothing"})
    with pytest.raises(ToolError, match="needs the `builder` model role"):
        await client.call_tool("start_run", {"task": "a red mug with a handle"})
    with pytest.raises(ToolError, match="models: unknown role 'critic'; a run may name builder, verifier, summarizer"):
        await client.call_tool("start_run", {"task": str(CUBE), "models": {"critic": ["openai/gpt-4o"]}})
    with pytest.raises(ToolError, match="models.builder: 'no-provider-model' .* litellm knows no provider"):
        await client.call_tool("start_run", {"task": str(CUBE), "models": {"builder": ["no-provider-model"]}})


async def test_a_host_forks_a_run_from_one_of_its_iterations(client: Client):
    run_id = (await client.call_tool("start_run", {"task": str(CUBE), "attempts": 1, "iterations": 2, **COLD})).structured_content["run_id"]
    status = (await client.call_tool("get_run", {"run_id": run_id, "wait_s": 20})).structured_content
    while status["active"]:
        status = (await client.call_tool("get_run", {"run_id": run_id, "wait_s": 20})).structured_content
    with pytest.raises(ToolError, match="no completed iteration 5; its completed iterations: 0..1"):
        await client.call_tool("fork_run", {"run_id": run_id, "attempt": 0, "iteration": 5})
    forked = (await client.call_tool("fork_run", {"run_id": run_id, "attempt": 0, "iteration": 1,
                                                  "iterations": 1, "builder": "parametric"})).structured_content
    assert set(forked) == {"run_id"} and forked["run_id"] != run_id
    status = (await client.call_tool("get_run", {"run_id": forked["run_id"], "wait_s": 20})).structured_content
    while status["active"]:
        status = (await client.call_tool("get_run", {"run_id": forked["run_id"], "wait_s": 20})).structured_content
    assert status["status"] == "completed" and status["attempts"][0]["iterations"] == 1
    origin = status["forked_from"]
    assert (origin["run_id"], origin["attempt"], origin["iteration"]) == (run_id, 0, 1) and origin["score"] > 0
    fork = Path(status["run_dir"])
    assert ((fork / "attempts/attempt-000/iterations/iter-000/code.py").read_text()
            == (fork.parent / run_id / "attempts/attempt-000/iterations/iter-001/code.py").read_text())

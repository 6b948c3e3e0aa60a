"""Host-driven calls leave a bounded execution history, read back by `colossus history`; and the
`block` code policy set in colossus.toml reaches the workers. A real gateway (in-memory client),
real Blender and the real vision server."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from gateway.cli import main
from gateway.history import HISTORY_FILE, ExecutionHistory, HistoryEntry
from gateway.server import create_gateway
from tests.gateway.conftest import gateway_config

CUBE = "import bpy\nbpy.ops.mesh.primitive_cube_add(size=1, location=(0, 0, 0.5))\n"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("history")


@pytest.fixture(scope="module")
def runs_dir(root: Path) -> Path:
    return root / "runs"  # gateway_config's runs folder


@pytest.fixture(scope="module")
async def client(root: Path) -> AsyncIterator[Client]:
    config = gateway_config(root, pool={"code_policy": "block"}, vision={"enabled": True})
    async with Client(create_gateway(config), timeout=60, init_timeout=90) as connected:
        yield connected


async def test_the_block_policy_from_the_config_refuses_import_os_through_the_gateway(client: Client) -> None:
    scene_id = (await client.call_tool("reset_to_baseline", {})).structured_content["scene_id"]
    report = (await client.call_tool("execute_code", {"scene_id": scene_id, "code": "import os\nos.listdir('/')"})).structured_content
    assert not report["success"] and report["error_class"] == "POLICY"
    assert report["exception"]["line"] == 1 and "block policy" in report["exception"]["message"]
    assert (await client.call_tool("execute_code", {"scene_id": scene_id, "code": CUBE})).structured_content["success"]
    await client.call_tool("release_scene", {"scene_id": scene_id})


async def test_the_history_records_host_calls_and_filters_them(client: Client, runs_dir: Path, capsys) -> None:
    started = time.time()
    scene_id = (await client.call_tool("reset_to_baseline", {})).structured_content["scene_id"]
    await client.call_tool("execute_code", {"scene_id": scene_id, "code": CUBE})
    await client.call_tool("execute_code", {"scene_id": scene_id, "code": "x = 1\nraise ValueError('nope')"})
    await client.call_tool("run_attempt", {"scene_id": scene_id, "code": CUBE, "views": ["front"], "resolution": 32})
    await client.call_tool("release_scene", {"scene_id": scene_id})
    with pytest.raises(ToolError, match="UNKNOWN_SCENE"):
        await client.call_tool("execute_code", {"scene_id": scene_id, "code": "pass"})

    since = datetime.fromtimestamp(started, timezone.utc).isoformat()
    assert main(["history", "--runs-dir", str(runs_dir), "--json", "--since", since]) == 0
    entries = [HistoryEntry.model_validate(e) for e in json.loads(capsys.readouterr().out)]
    assert [(e.tool, e.success, e.error_class) for e in entries] == [
        ("execute_code", True, None), ("execute_code", False, "RUNTIME"), ("run_attempt", True, None),
        ("execute_code", False, "UNKNOWN_SCENE")]
    assert {e.scene_id for e in entries} == {scene_id} and entries[0].code == CUBE
    assert entries[1].report["exception"]["message"] == "nope" and all(e.duration_ms > 0 for e in entries)

    assert main(["history", "--runs-dir", str(runs_dir), "--json", "--failures"]) == 0
    failed = json.loads(capsys.readouterr().out)
    assert [e["error_class"] for e in failed] == ["POLICY", "RUNTIME", "UNKNOWN_SCENE"]  # the policy test's call too

    assert main(["history", "--runs-dir", str(runs_dir), "--since", "2999-01-01T00:00"]) == 0
    assert "no host calls recorded" in capsys.readouterr().out
    assert main(["history", "--runs-dir", str(runs_dir), "--json", "--since", "1h"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 6
    assert main(["history", "--runs-dir", str(runs_dir), "--failures"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "RUNTIME" in lines[1] and "x = 1" in lines[1]


def test_a_bad_since_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["history", "--runs-dir", str(tmp_path), "--since", "last tuesday"]) == 2
    assert "expected a duration such as 30m" in capsys.readouterr().err


def test_the_history_stays_bounded_and_survives_a_torn_line(tmp_path: Path) -> None:
    history = ExecutionHistory(tmp_path / HISTORY_FILE, max_bytes=4000)
    for i in range(100):
        history.record(HistoryEntry(at=i, tool="execute_code", code=f"x = {i}\n" + "#" * 100, success=True, duration_ms=1))
    files = list((tmp_path / HISTORY_FILE).parent.iterdir())
    assert sorted(f.name for f in files) == ["executions.jsonl", "executions.jsonl.1"]
    assert all(f.stat().st_size <= 4000 for f in files)
    with open(tmp_path / HISTORY_FILE, "a") as f:
        f.write('{"at": 1000, "tool": "execute_co')  # a crash mid-line
    history.record(HistoryEntry(at=100, tool="run_attempt", code="after the crash", success=True, duration_ms=1))
    kept = history.read()
    assert len(kept) >= 10 and [e.at for e in kept] == list(range(101 - len(kept), 101)), "not the newest, in order"
    assert kept[-1].code == "after the crash"

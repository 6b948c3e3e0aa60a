"""The worker as a real child process over stdio: every tool works, and the JSON-RPC stream stays
clean even when Blender prints from C (renders, file saves) or a snippet writes to fd 1."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from harness.launcher import ENTRY_SCRIPT, WorkerLaunch


@pytest.fixture(scope="module")
async def stdio_client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    """One worker process for the whole module (starting Blender costs ~2 s)."""
    launch = WorkerLaunch(workdir=tmp_path_factory.mktemp("stdio-worker"))
    async with Client(launch.stdio_transport(log_file=launch.workdir / "worker.log"), timeout=120) as client:
        yield client


async def test_every_worker_tool_answers_over_stdio(stdio_client: Client) -> None:
    client = stdio_client
    await client.call_tool("reset_to_baseline", {"baseline_id": "empty"})
    assert (await client.call_tool("ping", {})).structured_content["status"] == "ok"
    report = (await client.call_tool("execute_code", {"code": "bpy.ops.mesh.primitive_cube_add()\nprint('ok')"})).structured_content
    assert report["success"] and report["stdout"] == "ok\n"
    assert [o["name"] for o in (await client.call_tool("get_scene_info", {})).structured_content["objects"]] == ["Cube"]
    assert (await client.call_tool("get_object_info", {"name": "Cube"})).structured_content["summary"]["mesh"]["verts"] == 8
    await client.call_tool("save_baseline", {"name": "one_cube"})
    assert "one_cube" in (await client.call_tool("list_baselines", {})).data
    await client.call_tool("reset_to_baseline", {"baseline_id": "empty"})
    await client.call_tool("reset_to_baseline", {"baseline_id": "one_cube"})
    pack = await client.call_tool("render_pack", {"views": ["front", "iso"], "resolution": 48})
    assert [c.type for c in pack.content] == ["image", "image"]
    assert Path(pack.structured_content["views"]["iso"]["path"]).is_file()
    assert Path((await client.call_tool("save_blend", {"name": "cube"})).structured_content["path"]).is_file()


async def test_tool_errors_keep_their_tag_over_stdio(stdio_client: Client) -> None:
    with pytest.raises(ToolError, match=r"^\[BAD_ID\]"):
        await stdio_client.call_tool("reset_to_baseline", {"baseline_id": "../../etc/passwd"})
    with pytest.raises(ToolError, match=r"^\[UNKNOWN_OBJECT\]"):
        await stdio_client.call_tool("get_object_info", {"name": "Nope"})


def test_raw_stdout_holds_only_json_rpc_while_blender_prints(tmp_path: Path) -> None:
    launch = WorkerLaunch(workdir=tmp_path / "raw")
    launch.workdir.mkdir()
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "execute_code", "arguments": {
            "code": "import os\nos.write(1, b'stray bytes on fd 1\\n')\nprint('python print')\nbpy.ops.mesh.primitive_cube_add()\n"
                    "bpy.ops.wm.save_as_mainfile(filepath='copy.blend', copy=True)\n"}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "render_pack", "arguments": {"views": ["front"], "resolution": 32, "preset": "final", "samples": 1}}},
    ]
    process = subprocess.Popen(
        launch.command(), env=launch.env(), cwd=launch.workdir,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        lines: list[str] = []
        for request in requests:
            process.stdin.write((json.dumps(request) + "\n").encode())
            process.stdin.flush()
            if "id" in request:
                while True:
                    line = process.stdout.readline().decode()
                    assert line, f"worker closed stdout; stderr: {process.stderr.read().decode()[-2000:]}"
                    lines.append(line)
                    if json.loads(line).get("id") == request["id"]:
                        break
        rest, stderr = process.communicate(timeout=30)  # closes stdin: the worker exits
    finally:
        process.kill()
    lines += rest.decode().splitlines(keepends=True)
    messages = [json.loads(line) for line in lines if line.strip()]  # a foreign line fails here
    assert all(m["jsonrpc"] == "2.0" for m in messages)
    assert "stray bytes on fd 1" in stderr.decode() and "Saved:" in stderr.decode()
    by_id = {m.get("id"): m for m in messages}
    assert by_id[2]["result"]["structuredContent"]["success"] is True
    assert by_id[2]["result"]["structuredContent"]["stdout"].startswith("python print\n")
    assert by_id[3]["result"]["content"][0]["type"] == "image"


async def test_two_worker_processes_render_identical_files(stdio_client: Client, client: Client) -> None:
    code = "bpy.ops.mesh.primitive_monkey_add(location=(0, 0, 1))\nbpy.ops.mesh.primitive_plane_add(size=4)\n"
    args = {"views": ["front", "iso"], "resolution": 64}
    files = []
    for worker in (stdio_client, client):  # a child process and this test process
        await worker.call_tool("reset_to_baseline", {"baseline_id": "empty"})
        assert (await worker.call_tool("execute_code", {"code": code})).structured_content["success"]
        pack = (await worker.call_tool("render_pack", args)).structured_content
        files.append([Path(pack["views"][v]["path"]).read_bytes() for v in args["views"]])
    assert files[0] == files[1]


async def test_entry_script_runs_as_a_plain_script_like_a_blender_binary_runs_it(tmp_path: Path) -> None:
    """Binary mode runs entry.py by path with Blender's own arguments before `--`; no Blender
    executable is installed here, so the same script runs under this Python instead."""
    from fastmcp.client.transports import StdioTransport

    launch = WorkerLaunch(workdir=tmp_path / "script-worker")
    args = [str(ENTRY_SCRIPT), "-b", "--factory-startup", "--", *launch.server_args()]
    transport = StdioTransport(launch.python, args, env=launch.env(), cwd=str(tmp_path), keep_alive=False)
    async with Client(transport, timeout=60) as client:
        assert (await client.call_tool("ping", {})).structured_content["status"] == "ok"
    assert (tmp_path / "script-worker" / "baselines" / "empty.blend").is_file()

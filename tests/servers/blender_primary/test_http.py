"""The worker over streamable HTTP at /mcp on 127.0.0.1, started through the launcher."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from fastmcp import Client

from harness.launcher import WorkerLaunch


async def test_worker_serves_tools_over_streamable_http(tmp_path: Path) -> None:
    process, url = WorkerLaunch(workdir=tmp_path / "http-worker", transport="http").spawn_http()
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp")
        async with Client(url, timeout=60) as client:
            assert (await client.call_tool("ping", {})).structured_content["status"] == "ok"
            report = (await client.call_tool("execute_code", {"code": "bpy.ops.mesh.primitive_cube_add()\nprint(len(bpy.data.objects))"})).structured_content
            assert report["success"] and report["stdout"] == "1\n"
            pack = await client.call_tool("render_pack", {"views": ["top"], "resolution": 32})
            assert pack.content[0].type == "image"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

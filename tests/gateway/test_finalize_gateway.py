"""finalize_asset / get_finalize through the gateway, and [finalize] in a task: real pool, real workers."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from gateway.server import create_gateway
from tests.assets.gltf_check import gltf_errors
from tests.gateway.conftest import PollingClient, gateway_config

CUBE_TASK = Path(__file__).parents[1] / "orchestrator" / "data" / "cube"
BUMPY = """
import bpy
bpy.ops.mesh.primitive_ico_sphere_add(subdivisions=6, radius=0.6, location=(0, 0, 1))
obj = bpy.context.active_object
tex = bpy.data.textures.new("bumps", "VORONOI")
tex.noise_scale = 0.2
mod = obj.modifiers.new("d", "DISPLACE")
mod.texture, mod.strength = tex, 0.1
"""


@pytest.fixture(scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    config = gateway_config(tmp_path_factory.mktemp("gw_finalize"), pool={"workers": 2, "warm_spare": False},
                            vision={"enabled": True})  # runs need the vision server
    async with PollingClient(create_gateway(config), timeout=60, init_timeout=90) as connected:
        yield connected


async def test_a_host_finalizes_its_scene_behind_a_handle_with_progress(client: Client):
    scene_id = (await client.call_tool("reset_to_baseline", {})).structured_content["scene_id"]
    await client.call_tool("execute_code", {"scene_id": scene_id, "code": BUMPY})
    stages: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        stages.append(message or "")

    started = await client.call_tool("finalize_asset", {"profile": "gltf-web", "scene_id": scene_id})
    status = started.structured_content
    assert status["job_id"].startswith("asset-") and status["status"] == "running"  # a handle at once
    while status["status"] == "running":
        result = await client.call_tool("get_finalize", {"job_id": status["job_id"], "wait_s": 20},
                                        progress_handler=on_progress)
        status = result.structured_content
    assert status["status"] == "done", status["error"]
    assert status["result"]["valid"] is True
    assert stages and all(s.startswith("finalizing: ") for s in stages), stages
    assert [b.type for b in result.content].count("image") == 4  # a render of every LOD
    glbs = [Path(p) for p in status["result"]["outputs"] if p.endswith(".glb")]
    assert len(glbs) == 4 and all(gltf_errors(p) == [] for p in glbs)
    # the host's scene is untouched: its object is still there, not replaced by the LODs
    info = (await client.call_tool("blender_get_scene_info", {"scene_id": scene_id})).structured_content
    assert [o["name"] for o in info["objects"]] == ["Icosphere"]
    await client.call_tool("release_scene", {"scene_id": scene_id})


@pytest.mark.parametrize(("arguments", "message"), [
    ({"profile": "unity5", "path": "/x.obj"}, "unknown profile 'unity5'"),
    ({"profile": "unity"}, "exactly one of scene_id, run_id or path"),
    ({"profile": "unity", "path": "/etc/passwd"}, "passwd: unsupported format"),
    ({"profile": "unity", "run_id": "2020_none"}, "no run '2020_none'"),
    ({"profile": "unity", "path": "/no/such.obj"}, "no such file or folder"),
])
async def test_bad_finalize_requests_are_clear_tool_errors(arguments, message, client: Client):
    with pytest.raises(ToolError, match=r"^\[BAD_REQUEST\].*" + message.replace("(", r"\(")):
        await client.call_tool("finalize_asset", arguments)


async def test_a_corrupt_file_ends_the_job_as_failed_with_the_reason_and_no_output(client: Client, tmp_path: Path):
    (tmp_path / "broken.glb").write_bytes(b"glTF\x02\x00\x00\x00" + b"\x00" * 12)
    status = (await client.call_tool("finalize_asset", {"profile": "godot", "path": str(tmp_path / "broken.glb"),
                                                        "wait_s": 30})).structured_content
    assert status["status"] == "failed" and status["result"] is None
    assert "stage import failed: [ASSET_SOURCE] broken.glb could not be read" in status["error"]
    assert not Path(status["out_dir"]).exists()


async def test_for_a_client_that_declares_tasks_finalize_asset_is_a_task_ending_with_the_job(client: Client, tmp_path: Path):
    fastmcp_tasks = pytest.importorskip("fastmcp_tasks")
    (tmp_path / "broken.glb").write_bytes(b"glTF\x02\x00\x00\x00" + b"\x00" * 12)
    async with Client(client.transport, timeout=60) as declaring:  # the same gateway, a second connection
        task = await fastmcp_tasks.call_tool_task(declaring, "finalize_asset", {"profile": "godot",
                                                                               "path": str(tmp_path / "broken.glb")})
        final = (await task.result()).structured_content
    assert final["status"] == "failed" and "broken.glb could not be read" in final["error"]
    polled = (await client.call_tool("get_finalize", {"job_id": final["job_id"]})).structured_content
    assert {**polled, "elapsed_s": 0} == {**final, "elapsed_s": 0}, "the task's result is get_finalize's at the end"


async def workers(client: Client) -> list[dict]:
    return (await client.call_tool("mesh_status", {})).structured_content["pool"]["workers"]


async def test_cancelling_the_finalize_task_stops_the_job_and_its_worker_and_publishes_nothing(client: Client):
    fastmcp_tasks = pytest.importorskip("fastmcp_tasks")
    scene_id = (await client.call_tool("reset_to_baseline", {})).structured_content["scene_id"]
    await client.call_tool("execute_code", {"scene_id": scene_id, "code": BUMPY})
    hosts = {w["pid"] for w in await workers(client) if w["state"] == "leased"}
    async with Client(client.transport, timeout=60) as declaring:
        task = await fastmcp_tasks.call_tool_task(declaring, "finalize_asset", {"profile": "unity", "scene_id": scene_id})
        deadline = time.monotonic() + 120
        while "bake" not in ((status := await task.status()).status_message or ""):  # a long stage, under way
            assert status.status == "working" and time.monotonic() < deadline, status
            await asyncio.sleep(0.1)
        job_id = re.search(r"\(job (asset-[0-9a-f]{12})\)", status.status_message).group(1)
        baker = next(w for w in await workers(client) if w["state"] == "leased" and w["pid"] not in hosts)
        await task.cancel()
        assert (await task.wait(timeout=30)).status == "cancelled"
        cancelled = time.monotonic()
    job = (await client.call_tool("get_finalize", {"job_id": job_id, "wait_s": 15})).structured_content
    assert job["status"] == "cancelled" and job["result"] is None, job
    assert time.monotonic() - cancelled < 10, "the job stops at once, not at the end of its bake"
    assert re.match(r"cancelled during bake_(materials|normals): nothing was published", job["error"]), job["error"]
    out = Path(job["out_dir"])
    assert not out.exists() and not list(out.parent.glob(f".{out.name}.*")), "no output, no staging folder"
    assert not psutil.pid_exists(baker["pid"]) or psutil.Process(baker["pid"]).status() == psutil.STATUS_ZOMBIE, \
        "the bake stopped with its worker"
    info = (await client.call_tool("blender_get_scene_info", {"scene_id": scene_id})).structured_content
    assert [o["name"] for o in info["objects"]] == ["Icosphere"], "the host's scene is untouched"
    await client.call_tool("release_scene", {"scene_id": scene_id})
    deadline = time.monotonic() + 120  # the stopped worker is started again and serves the next lease
    while not all(w["state"] in ("free", "warm") for w in await workers(client)):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.5)


async def test_an_unknown_job_is_a_clear_error(client: Client):
    with pytest.raises(ToolError, match="no finalize job 'asset-000000000000'"):
        await client.call_tool("get_finalize", {"job_id": "asset-000000000000"})


async def test_a_task_with_a_finalize_profile_ends_with_the_best_attempt_as_an_asset(client: Client, tmp_path: Path):
    task_dir = tmp_path / "cube"
    shutil.copytree(CUBE_TASK, task_dir)
    task = task_dir / "task.toml"
    task.write_text(task.read_text() + '\n[finalize]\nprofile = "godot"\n')
    run_id = (await client.call_tool("start_run", {"task": str(task), "attempts": 1, "iterations": 2})).structured_content["run_id"]
    status = (await client.call_tool("get_run", {"run_id": run_id, "wait_s": 30})).structured_content
    while status["active"]:
        status = (await client.call_tool("get_run", {"run_id": run_id, "wait_s": 30})).structured_content
    run_dir = Path(status["run_dir"])
    asset = json.loads((run_dir / "run.json").read_text())["asset"]
    assert asset["status"] == "done", asset
    out = run_dir / "asset" / "godot"
    assert Path(asset["out_dir"]) == out and (out / "validation.json").is_file() and (out / "cube.glb").is_file()
    assert gltf_errors(out / "cube.glb") == []
    report = (run_dir / "report.html").read_text()
    assert "Asset: godot" in report
    assert all(f'src="asset/godot/renders/cube_LOD{i}.png"' in report for i in range(4))


async def test_a_task_naming_an_unknown_finalize_profile_is_refused_at_start(client: Client, tmp_path: Path):
    task_dir = tmp_path / "cube"
    shutil.copytree(CUBE_TASK, task_dir)
    (task_dir / "task.toml").write_text((task_dir / "task.toml").read_text() + '\n[finalize]\nprofile = "nope"\n')
    with pytest.raises(ToolError, match=r"finalize.profile: unknown profile 'nope'"):
        await client.call_tool("start_run", {"task": str(task_dir / "task.toml")})

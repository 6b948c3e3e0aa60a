"""Every high-level tool through the in-memory, stdio and streamable-HTTP clients of a real gateway.

The in-memory and HTTP clients share one in-process gateway (one pool); the stdio client talks to
`python -m gateway.cli serve` in a child process, as a desktop host would.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastmcp import Client, FastMCP
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport
from fastmcp.exceptions import ToolError

from gateway.server import HIGH_LEVEL_TOOLS, create_gateway
from harness.scene_types import RenderSettings
from tests.gateway.conftest import PollingClient, gateway_config

PROJECT = Path(__file__).resolve().parents[2]
RED_CUBE = """import bpy
bpy.ops.mesh.primitive_cube_add(size=1, location=(0, 0, 0.5))
mat = bpy.data.materials.new("red")
mat.diffuse_color = (0.8, 0.1, 0.1, 1)
bpy.context.object.data.materials.append(mat)
print("made", bpy.context.object.name)
"""
TRANSPORTS = ["memory", "http", "stdio"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gateway")


@pytest.fixture(scope="module")
def app(workdir: Path) -> FastMCP:
    return create_gateway(gateway_config(workdir / "inproc", vision={"enabled": True}))


@pytest.fixture(scope="module")
async def http_url(app: FastMCP) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app.http_app(path="/mcp", host_origin_protection="auto", allowed_origins=[]),
                                           host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "HTTP gateway did not start"
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    await task


def stdio_transport(workdir: Path) -> StdioTransport:
    config = workdir / "colossus.toml"
    config.write_text(
        f'[pool]\nworkers = 1\nworkdir = "{workdir / "pool"}"\nhealth_interval_s = 3600\n'
        f'[runs]\ndir = "{workdir / "runs"}"\n[gateway]\ntoolsets = ["all"]\n'
    )
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return StdioTransport(sys.executable, ["-m", "gateway.cli", "serve", "--config", str(config)],
                          env=env, cwd=str(PROJECT), keep_alive=False)


@pytest.fixture(scope="module", params=TRANSPORTS)
async def client(request: pytest.FixtureRequest, app: FastMCP, http_url: str, workdir: Path) -> AsyncIterator[Client]:
    """One connected client per transport, shared by the module's tests."""
    target: Any = app
    if request.param == "http":
        target = StreamableHttpTransport(http_url)
    elif request.param == "stdio":
        (workdir / "stdio").mkdir(exist_ok=True)
        target = stdio_transport(workdir / "stdio")
    async with PollingClient(target, timeout=60, init_timeout=90) as connected:
        yield connected


async def new_scene(client: Client, baseline_id: str = "empty") -> str:
    result = await client.call_tool("reset_to_baseline", {"baseline_id": baseline_id})
    return result.structured_content["scene_id"]


async def test_every_high_level_tool_is_listed_with_a_valid_name(client: Client) -> None:
    names = {t.name for t in await client.list_tools()}
    assert set(HIGH_LEVEL_TOOLS) <= names
    assert {"blender_execute_code", "blender_get_scene_info"} <= names
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,63}", n) for n in names)


async def test_render_pack_and_run_attempt_offer_the_same_render_options_flat(client: Client) -> None:
    tools = {t.name: t.input_schema["properties"] for t in await client.list_tools()}
    options = set(RenderSettings.model_fields)
    assert options <= set(tools["render_pack"]) and "render" not in tools["render_pack"]
    assert {k: tools["run_attempt"][k] for k in options} == {k: tools["render_pack"][k] for k in options}
    assert tools["render_pack"]["resolution"]["maximum"] == 2048 and tools["render_pack"]["samples"]["anyOf"][0]["maximum"] == 1024


async def test_scene_tools_build_render_and_release_a_scene(client: Client) -> None:
    scene_id = await new_scene(client)
    report = (await client.call_tool("execute_code", {"scene_id": scene_id, "code": RED_CUBE})).structured_content
    assert report["success"] and report["scene_delta"]["added"] == ["Cube"] and "made Cube" in report["stdout"]
    render = await client.call_tool("render_pack", {"scene_id": scene_id, "views": ["front", "iso"], "resolution": 64})
    assert [b.type for b in render.content] == ["text", "image", "image"]
    assert set(render.structured_content["views"]) == {"front", "iso"}
    assert all(Path(v["path"]).is_file() for v in render.structured_content["views"].values())
    info = (await client.call_tool("blender_get_scene_info", {"scene_id": scene_id})).structured_content
    assert [o["name"] for o in info["objects"]] == ["Cube"]
    assert (await client.call_tool("release_scene", {"scene_id": scene_id})).structured_content == {"released": scene_id}
    with pytest.raises(ToolError, match=r"^\[UNKNOWN_SCENE\]"):
        await client.call_tool("execute_code", {"scene_id": scene_id, "code": "pass"})


async def test_failing_code_comes_back_as_a_report_with_its_line(client: Client) -> None:
    scene_id = await new_scene(client)
    report = (await client.call_tool("execute_code", {"scene_id": scene_id, "code": "x = 1\nraise ValueError('nope')"})).structured_content
    assert not report["success"] and report["error_class"] == "RUNTIME"
    assert report["exception"]["line"] == 2 and "nope" in report["exception"]["message"]
    await client.call_tool("release_scene", {"scene_id": scene_id})


async def test_reset_with_a_scene_id_restores_a_saved_baseline(client: Client) -> None:
    scene_id = await new_scene(client)
    await client.call_tool("execute_code", {"scene_id": scene_id, "code": RED_CUBE})
    await client.call_tool("blender_save_baseline", {"scene_id": scene_id, "name": "one_cube"})
    await client.call_tool("execute_code", {"scene_id": scene_id, "code": "import bpy\nbpy.ops.mesh.primitive_uv_sphere_add()"})
    handle = (await client.call_tool("reset_to_baseline", {"scene_id": scene_id, "baseline_id": "one_cube"})).structured_content
    assert handle["scene_id"] == scene_id
    info = (await client.call_tool("blender_get_scene_info", {"scene_id": scene_id})).structured_content
    assert [o["name"] for o in info["objects"]] == ["Cube"]
    with pytest.raises(ToolError, match=r"^\[BAD_ID\]|^\[UNKNOWN_BASELINE\]"):
        await client.call_tool("reset_to_baseline", {"scene_id": scene_id, "baseline_id": "no_such_baseline"})
    await client.call_tool("release_scene", {"scene_id": scene_id})


async def test_run_attempt_executes_renders_and_verifies_in_one_call(client: Client) -> None:
    result = await client.call_tool("run_attempt", {"code": RED_CUBE, "task": "a red cube", "views": ["front", "iso"],
                                                    "resolution": 64})
    data = result.structured_content
    assert data["report"]["success"]
    assert set(data["render"]["views"]) == {"front", "iso"}
    assert data["verification"]["sentinel"]["views"].keys() == {"front", "iso"}
    assert data["feedback"].startswith("Executed successfully.")
    assert [b.type for b in result.content].count("image") == 2
    verdict = (await client.call_tool("verify", {"scene_id": data["scene_id"], "task": "a red cube"})).structured_content
    assert "sentinel" in verdict and isinstance(verdict["passed"], bool)
    broken = (await client.call_tool("run_attempt", {"code": "import bpy\nbpy.ops.mesh.no_such_op()",
                                                     "scene_id": data["scene_id"]})).structured_content
    assert not broken["report"]["success"] and broken["render"] is None
    assert broken["feedback"].startswith("The code failed; nothing was rendered.")
    await client.call_tool("release_scene", {"scene_id": data["scene_id"]})


async def test_run_attempt_feedback_says_which_way_the_render_is_off_from_the_reference(client: Client) -> None:
    first = (await client.call_tool("run_attempt", {"code": RED_CUBE, "views": ["front"], "resolution": 64})).structured_content
    reference = {"front": first["render"]["views"]["front"]["path"]}
    moved = RED_CUBE.replace("location=(0, 0, 0.5)", "location=(-0.8, 0, 0.5)").replace("0.8, 0.1, 0.1", "0.1, 0.1, 0.8")
    await client.call_tool("reset_to_baseline", {"scene_id": first["scene_id"], "baseline_id": "empty"})
    data = (await client.call_tool("run_attempt", {"code": moved, "scene_id": first["scene_id"], "views": ["front"],
                                                   "resolution": 64, "reference": reference})).structured_content
    residuals = data["verification"]["compare"]["views"]["front"]["residuals"]
    assert residuals["centroid_dx"] < -0.05 and residuals["dE2000"] > 20
    line = next(x for x in data["feedback"].splitlines() if x.startswith("against the reference, front:"))
    assert "to the left" in line and "colour off by ΔE" in line and "bluer" in line, line
    await client.call_tool("release_scene", {"scene_id": first["scene_id"]})


async def test_verify_compares_images_against_a_reference(client: Client) -> None:
    scene_id = await new_scene(client)
    await client.call_tool("execute_code", {"scene_id": scene_id, "code": RED_CUBE})
    render = (await client.call_tool("render_pack", {"scene_id": scene_id, "views": ["front"], "resolution": 64})).structured_content
    front = render["views"]["front"]["path"]
    verdict = (await client.call_tool("verify", {"images": {"front": front}, "reference": {"front": front}})).structured_content
    assert verdict["compare"]["score"] == pytest.approx(1.0, abs=1e-6) and verdict["score"] == verdict["compare"]["score"]
    assert "against the reference, front: matches the reference in size, place and colour" in verdict["feedback"]
    await client.call_tool("release_scene", {"scene_id": scene_id})


async def test_run_tools_answer_from_the_coordinator(client: Client) -> None:
    listed = (await client.call_tool("list_runs", {})).structured_content
    assert isinstance(listed["runs"], list)
    with pytest.raises(ToolError, match="no-such-run"):
        await client.call_tool("get_run", {"run_id": "no-such-run"})
    with pytest.raises(ToolError, match=r"reference|builder|TASK|task"):
        await client.call_tool("start_run", {"task": "a teapot"})


async def test_start_run_takes_a_blueprint_inline_and_names_the_bad_key(client: Client) -> None:
    with pytest.raises(ToolError, match=r"inline task: blueprint\.span_m: must be > 0"):
        await client.call_tool("start_run", {"task": "a hull", "blueprint": {"span_m": 0, "side": "plans/side.png"}})
    with pytest.raises(ToolError, match=r"inline task: blueprint\.iso: unknown view"):
        await client.call_tool("start_run", {"task": "a hull", "blueprint": {"span_m": 30, "iso": "plans/side.png"}})


async def test_long_calls_send_progress_notifications(client: Client) -> None:
    scene_id = await new_scene(client)
    seen: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, message))

    await client.call_tool("execute_code", {"scene_id": scene_id, "code": "import time\ntime.sleep(2.5)"},
                           progress_handler=on_progress)
    assert len(seen) >= 2 and seen[-1][0] >= 1.0 and "running code" in (seen[0][1] or "")
    await client.call_tool("release_scene", {"scene_id": scene_id})


async def test_renders_are_readable_as_image_resources(client: Client) -> None:
    scene_id = await new_scene(client)
    await client.call_tool("render_pack", {"scene_id": scene_id, "views": ["top"], "resolution": 32})
    contents = await client.read_resource(f"renders://{scene_id}/top")
    blob = contents[0].blob
    assert contents[0].mime_type == "image/png"
    assert base64.b64decode(blob)[:8] == b"\x89PNG\r\n\x1a\n"
    await client.call_tool("release_scene", {"scene_id": scene_id})


async def test_mesh_status_reports_pool_and_vision(client: Client) -> None:
    status = (await client.call_tool("mesh_status", {})).structured_content
    assert status["pool"]["size"] == 1
    assert [u["name"] for u in status["upstreams"]] == ["vision"]
    assert status["upstreams"][0]["state"] == "available"
    assert status["coordinator"] == "available"


@pytest.mark.parametrize("kind", ["http", "memory", "stdio"])
async def test_legacy_protocol_clients_work_too(kind: str, app: FastMCP, http_url: str, workdir: Path) -> None:
    target: Any = {"http": StreamableHttpTransport(http_url), "memory": app}.get(kind)
    if kind == "stdio":
        (workdir / "stdio_legacy").mkdir(exist_ok=True)
        target = stdio_transport(workdir / "stdio_legacy")
    async with Client(target, mode="legacy") as legacy:
        assert legacy.initialize_result is not None, "the legacy handshake was used"
        scene_id = await new_scene(legacy)
        report = (await legacy.call_tool("execute_code", {"scene_id": scene_id, "code": "print(6 * 7)"})).structured_content
        assert report["stdout"] == "42\n"
        await legacy.call_tool("release_scene", {"scene_id": scene_id})


async def test_start_run_drives_the_coordinator_to_the_end_and_get_run_reports_it(app: FastMCP, tmp_path: Path) -> None:
    example = PROJECT / "examples" / "tasks" / "red_block"
    async with PollingClient(app) as client:
        scene_id = await new_scene(client)
        await client.call_tool("execute_code", {"scene_id": scene_id, "code": (example / "truth.py").read_text()})
        pack = (await client.call_tool("render_pack", {"scene_id": scene_id, "views": ["front", "iso"], "resolution": 64,
                                                       "distance": 7.0})).structured_content
        await client.call_tool("release_scene", {"scene_id": scene_id})
        (tmp_path / "ref").mkdir()
        for view in ("front", "iso"):
            (tmp_path / "ref" / f"{view}.png").write_bytes(Path(pack["views"][view]["path"]).read_bytes())
        (tmp_path / "start.py").write_text((example / "start.py").read_text())
        (tmp_path / "task.toml").write_text(
            'name = "red_block_small"\ndescription = "A red block"\n[start]\nprogram = "start.py"\n'
            '[reference]\nfront = "ref/front.png"\niso = "ref/iso.png"\n'
            '[render]\nresolution = 64\ndistance = 7.0\n'
            '[budget]\nattempts = 1\niterations = 2\nthreshold = 0.999\ntimeout_s = 120\n')
        run_id = (await client.call_tool("start_run", {"task": str(tmp_path / "task.toml")})).structured_content["run_id"]
        for _ in range(12):
            got = await client.call_tool("get_run", {"run_id": run_id, "wait_s": 10})
            if got.structured_content["status"] != "running":
                break
        status = got.structured_content
        assert status["status"] in ("completed", "timeout"), status
        assert len(status["attempts"]) == 1 and status["attempts"][0]["iterations"] >= 1
        assert status["best_score"] is not None and 0 < status["best_score"] <= 1
        assert [b.type for b in got.content].count("image") >= 1, "get_run shows the best renders"
        listed = (await client.call_tool("list_runs", {})).structured_content["runs"]
        assert run_id in [r["run_id"] for r in listed]
        resource = await client.read_resource(f"runs://{run_id}")
        assert run_id in resource[0].text


async def test_bad_input_gets_a_specific_error_and_loses_nothing(app: FastMCP) -> None:
    async with Client(app) as client:
        with pytest.raises(ToolError, match=r"^\[UNKNOWN_BASELINE\]"):
            await client.call_tool("reset_to_baseline", {"baseline_id": "never_saved"})
        assert (await client.call_tool("mesh_status", {})).structured_content["pool"]["leased"] == 0, "no lease leaked"
        with pytest.raises(ToolError, match="scene_id"):
            await client.call_tool("execute_code", {"scene_id": "../etc", "code": "pass"})
        scene_id = await new_scene(client)
        with pytest.raises(ToolError, match="200000"):
            await client.call_tool("execute_code", {"scene_id": scene_id, "code": "#" * 200_001})
        with pytest.raises(ToolError, match=r"timeout_s"):
            await client.call_tool("execute_code", {"scene_id": scene_id, "code": "pass", "timeout_s": 600})
        with pytest.raises(ToolError, match=r"^\[BAD_ID\]"):
            await client.call_tool("blender_save_baseline", {"scene_id": scene_id, "name": "../../escape"})
        with pytest.raises(ToolError, match=r"allowed|outside|BAD_PATH|not under"):
            await client.call_tool("verify", {"images": {"front": "/etc/passwd"}})
        with pytest.raises(ToolError, match=r"image|decode|IMAGE"):
            await client.call_tool("verify", {"images": {"front": "bm90IGFuIGltYWdl"}})
        report = (await client.call_tool("execute_code", {"scene_id": scene_id, "code": "print('still fine')"})).structured_content
        assert report["stdout"] == "still fine\n"
        await client.call_tool("release_scene", {"scene_id": scene_id})

"""The coordinator's seams implemented by the gateway, and parity with a worker used directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastmcp import Client, FastMCP

from gateway.workers.pool_scene import PoolScene, PoolSceneProvider
from gateway.server import create_gateway
from harness.launcher import WorkerLaunch
from harness.scene_types import RenderSettings
from orchestrator.errors import SceneFault
from orchestrator.scene import Scene, SceneProvider, Vision
from tests.gateway.conftest import gateway_config

SCENARIO = """import bpy
bpy.ops.mesh.primitive_cylinder_add(radius=0.4, depth=1.2, location=(0.3, 0, 0.6))
bpy.ops.mesh.primitive_cube_add(size=0.5, location=(-0.6, 0.2, 0.25))
print(len(bpy.data.objects))
"""
RENDER = {"views": ["front", "iso"], "resolution": 64}


@pytest.fixture(scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[FastMCP, Client]]:
    app = create_gateway(gateway_config(tmp_path_factory.mktemp("scene"), vision={"enabled": True}))
    async with Client(app) as client:
        yield app, client


def without_timings(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "timings"}


def pixels(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert image is not None, path
    return image


async def test_pool_types_satisfy_the_coordinator_protocols(gateway: tuple[FastMCP, Client]) -> None:
    app, _ = gateway
    services = app.services  # type: ignore[attr-defined]
    assert isinstance(services.provider, SceneProvider) and services.provider.size == 1
    assert isinstance(services.vision, Vision)
    async with services.provider.lease() as scene:
        assert isinstance(scene, Scene)


async def test_same_scenario_directly_on_a_worker_and_through_the_gateway_gives_the_same_result(
        gateway: tuple[FastMCP, Client], tmp_path: Path) -> None:
    _, client = gateway
    launch = WorkerLaunch(workdir=tmp_path / "direct", baselines_dir=tmp_path / "direct_baselines")
    async with Client(launch.stdio_transport(log_file=tmp_path / "direct.log"), init_timeout=90) as direct:
        d_report = (await direct.call_tool("execute_code", {"code": SCENARIO})).structured_content
        d_info = (await direct.call_tool("get_scene_info", {})).structured_content
        d_render = (await direct.call_tool("render_pack", RENDER)).structured_content
    scene_id = (await client.call_tool("reset_to_baseline", {})).structured_content["scene_id"]
    g_report = (await client.call_tool("execute_code", {"scene_id": scene_id, "code": SCENARIO})).structured_content
    g_info = (await client.call_tool("blender_get_scene_info", {"scene_id": scene_id})).structured_content
    g_render = (await client.call_tool("render_pack", {"scene_id": scene_id, **RENDER})).structured_content
    await client.call_tool("release_scene", {"scene_id": scene_id})
    assert without_timings(g_report) == without_timings(d_report)
    assert g_info == d_info
    for view in RENDER["views"]:
        assert np.array_equal(pixels(g_render["views"][view]["path"]), pixels(d_render["views"][view]["path"])), view


async def test_a_leased_scene_copies_renders_and_blend_files_into_the_callers_folder(
        gateway: tuple[FastMCP, Client], tmp_path: Path) -> None:
    app, _ = gateway
    provider: PoolSceneProvider = app.services.provider  # type: ignore[attr-defined]
    async with provider.lease() as scene:
        assert isinstance(scene, PoolScene)
        failed = await scene.execute_and_render("raise ValueError('no')", RenderSettings(resolution=32), tmp_path / "none")
        assert not failed.report.success and failed.render is None and not (tmp_path / "none").exists()
        done = await scene.execute_and_render(SCENARIO, RenderSettings(views=["top"], resolution=32), tmp_path / "renders")
        assert done.report.success and done.render is not None and done.render_error is None
        assert done.render.views["top"].path == str(tmp_path / "renders" / "top.png")
        assert pixels(done.render.views["top"].path).shape[:2] == (32, 32)
        assert Path(done.render.views["top"].path).stat().st_nlink == 2, "a local worker's PNG is linked, not re-sent"
        assert done.render.scene is not None and len(done.render.scene.objects) == 2
        (tmp_path / "a_file").write_text("not a folder")
        with pytest.raises(SceneFault, match="could not be written"):  # our disk, not the program's fault
            await scene.execute_and_render("x = 1", RenderSettings(views=["top"], resolution=32), tmp_path / "a_file" / "renders")
        blend = await scene.save_blend(tmp_path / "attempt" / "final_scene.blend")
        assert blend.is_file() and blend.read_bytes()[:7] == b"BLENDER"
        await scene.save_baseline("parity_saved")
        await scene.reset("empty")
        assert (await scene.info()).objects == []
        await scene.reset("parity_saved")
        assert len((await scene.info()).objects) == 2
    assert app.services.pool.scenes() == []  # type: ignore[attr-defined]

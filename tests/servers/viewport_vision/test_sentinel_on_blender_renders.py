"""Sentinel and compare on renders from real Blender: the worker server and the vision server, both over MCP."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client

from servers.blender_primary.server import create_server as create_worker
from servers.viewport_vision.server import create_server as create_vision

SCENE = """
import bpy
bpy.ops.mesh.primitive_plane_add(size=6.0)
ground = bpy.context.active_object
ground.name = "Ground"
grey = bpy.data.materials.new("GroundGrey")
grey.diffuse_color = (0.35, 0.35, 0.35, 1.0)
ground.data.materials.append(grey)
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0.0, 0.0, 2.0))
cube = bpy.context.active_object
cube.name = "Cube"
red = bpy.data.materials.new("Red")
red.diffuse_color = (0.8, 0.1, 0.08, 1.0)
cube.data.materials.append(red)
"""
RENDER = {"views": ["front", "side"], "preset": "preview", "resolution": 128, "framing": "fixed",
          "target": [0.0, 0.0, 1.0], "distance": 9.0}


async def _observe(worker: Client) -> tuple[dict[str, str], dict]:
    pack = (await worker.call_tool("render_pack", RENDER)).structured_content
    info = (await worker.call_tool("get_scene_info", {})).structured_content
    return {v: r["path"] for v, r in pack["views"].items()}, info


@pytest.fixture
async def worker(tmp_path: Path):
    async with Client(create_worker(tmp_path / "work", tmp_path / "baselines", tmp_path / "output")) as client:
        yield client


async def test_floating_cube_is_flagged_until_transform_to_floor_grounds_it(worker: Client, tmp_path: Path) -> None:
    report = (await worker.call_tool("execute_code", {"code": SCENE})).structured_content
    assert report["success"], report
    before_paths, before_info = await _observe(worker)

    async with Client(create_vision([tmp_path])) as vision:
        before = (await vision.call_tool("sentinel", {"images": before_paths, "scene_info": before_info})).structured_content
        floating = [i for i in before["issues"] if i["category"] == "floating" and i["object_name"]]
        assert [(i["object_name"], i["suggested_tool"]) for i in floating] == [("Cube", "transform_to_floor")]
        assert floating[0]["value"] == pytest.approx(1.5, abs=1e-3)
        seen = {i["view"] for i in before["issues"] if i["category"] == "floating" and i["view"]}
        assert seen == {"front", "side"}  # the silhouette shows sky between the cube and the floor
        assert not before["passed"]
        for stats in before["views"].values():  # the render itself is sound: a visible, framed subject
            assert 0.005 < stats["coverage"] < 0.5 and stats["touches_border"] == []

        await worker.call_tool(floating[0]["suggested_tool"], floating[0]["suggested_args"])
        after_paths, after_info = await _observe(worker)
        after = (await vision.call_tool("sentinel", {"images": after_paths, "scene_info": after_info})).structured_content
        assert after["issues"] == [] and after["passed"]

        moved = (await vision.call_tool("compare", {"renders": after_paths, "references": before_paths})).structured_content
        same = (await vision.call_tool("compare", {"renders": after_paths, "references": after_paths})).structured_content
    assert same["score"] == 1.0
    assert moved["score"] < 0.9
    assert moved["views"]["front"]["silhouette_iou"] < 0.5

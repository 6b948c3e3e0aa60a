"""Plan renders from real Blender against real drawings, both servers over MCP: the plan cameras
put the world where the drawing says (front, side and top directions, origin_px), and the hull's
start program is measured against the plans made from its truth in metres, with directions."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from harness.blueprint_types import Blueprint, BlueprintView
from orchestrator.blueprint_loop import pack_settings
from orchestrator.task import load_task
from servers.blender_primary.server import create_server as create_worker
from servers.viewport_vision.server import create_server as create_vision

HULL = Path(__file__).resolve().parents[3] / "examples" / "tasks" / "hull"
BOX = """
import bpy
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(3.5, -2.5, 2.0))
bpy.context.active_object.scale = (3.0, 3.0, 2.0)
"""  # x 2..5, y −4..−1, z 1..3


@pytest.fixture
async def servers(tmp_path: Path):
    async with Client(create_worker(tmp_path / "work", tmp_path / "baselines", tmp_path / "output")) as worker, \
            Client(create_vision([tmp_path, HULL])) as vision:
        yield worker, vision


async def _plans(worker: Client, code: str, blueprint: Blueprint) -> dict[str, str]:
    await worker.call_tool("reset_to_baseline", {"baseline_id": "empty"})
    render = {"views": ["top"], "resolution": 32, "plans": [c.model_dump() for c in blueprint.cameras()]}
    done = (await worker.call_tool("execute_and_render", {"code": code, "images": False, **render})).structured_content
    assert done["report"]["success"], done["report"]
    return {v: r["path"] for v, r in done["render"]["views"].items() if v.startswith("plan_")}


def _box_drawings(tmp_path: Path) -> Blueprint:
    """A 20 m span over 1000 px (50 px a metre); top drawn with its origin moved to (400, 150)."""
    ppm, views = 50, {}
    for view, (w, h), origin, (r0, r1), (u0, u1) in (
            ("front", (1000, 250), (500, 250), (2, 5), (1, 3)),  # right = +X, up = +Z
            ("side", (1000, 250), (500, 250), (-4, -1), (1, 3)),  # right = +Y
            ("top", (1000, 700), (400, 150), (2, 5), (-4, -1))):  # right = +X, up = +Y
        img = np.full((h, w), 255, np.uint8)
        cv2.rectangle(img, (round(origin[0] + r0 * ppm), round(origin[1] - u1 * ppm)),
                      (round(origin[0] + r1 * ppm), round(origin[1] - u0 * ppm)), 0, 3)
        cv2.putText(img, f"BOX - {view.upper()}", (20, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
        path = tmp_path / f"{view}.png"
        cv2.imwrite(str(path), img)
        views[view] = BlueprintView(view=view, image=path, size_px=(w, h), origin_px=origin)
    return Blueprint(span_m=20.0, stations=6, views=views)


async def test_plan_cameras_put_the_world_where_each_drawing_says(servers, tmp_path: Path) -> None:
    worker, vision = servers
    blueprint = _box_drawings(tmp_path)
    renders = await _plans(worker, BOX, blueprint)
    report = (await vision.call_tool("blueprint", {"renders": renders, "blueprint": blueprint.model_dump(mode="json")})).structured_content
    for view, r in report["views"].items():
        assert r["iou"] > 0.95, (view, r["iou"])  # a mirrored axis or a wrong origin would miss the box
        assert all(abs(d) < 0.1 for d in r["extent_residual_m"].values()), (view, r["extent_residual_m"])
    assert report["overall_m"] == pytest.approx({"length": 3.0, "beam": 3.0, "height": 2.0}, abs=0.1)
    moved = await _plans(worker, BOX.replace("(3.5, -2.5, 2.0)", "(3.5, -2.5, 3.0)"), blueprint)  # 1 m higher
    higher = (await vision.call_tool("blueprint", {"renders": moved, "blueprint": blueprint.model_dump(mode="json")})).structured_content
    tops = higher["views"]["side"]["profile_residual_m"]["top"]
    assert all(t == pytest.approx(1.0, abs=0.1) for t in tops)
    assert higher["views"]["top"]["iou"] > 0.95 and higher["views"]["front"]["iou"] < 0.6


async def test_the_hulls_start_is_measured_against_its_plans_in_metres(servers) -> None:
    worker, vision = servers
    blueprint = load_task(HULL / "task.toml").blueprint
    args = {"blueprint": blueprint.model_dump(mode="json")}
    truth = (await vision.call_tool("blueprint", {"renders": await _plans(worker, (HULL / "truth.py").read_text(), blueprint),
                                                  **args})).structured_content
    assert all(r["iou"] > 0.97 for r in truth["views"].values()), truth["views"]
    assert all(abs(d) < 0.15 for d in truth["overall_residual_m"].values()), truth["overall_residual_m"]
    assert truth["score"] > 0.95 and not truth["directions"]
    start = (await vision.call_tool("blueprint", {"renders": await _plans(worker, (HULL / "start.py").read_text(), blueprint),
                                                  **args})).structured_content
    # start: length 18 (24), beam 7 (5), height 2.5 + 2 + 1.5 (3.5 + 3 + 3)
    assert start["overall_residual_m"] == pytest.approx({"length": -6.0, "beam": 2.0, "height": -3.5}, abs=0.2)
    assert start["directions"][0].startswith("the overall length is 5.9") and "too short" in start["directions"][0]
    assert any("side: the top is" in d and "too low at station" in d for d in start["directions"])
    assert start["score"] < truth["score"] - 0.4
    n = blueprint.stations  # overall 3; extents 2 a view; top and bottom (side), half-breadth (top)
    assert len(start["vector"]) == len(truth["vector"]) == 3 + 2 * 2 + 2 * n + n


async def test_a_pack_without_the_plan_render_is_refused_naming_it(servers) -> None:
    _, vision = servers
    task = load_task(HULL / "task.toml")
    assert [c.name for c in pack_settings(task).plans] == ["plan_side", "plan_top"]
    with pytest.raises(ToolError, match="blueprint.side: no render named 'plan_side'"):
        await vision.call_tool("blueprint", {"renders": {"plan_top": str(HULL / "plans" / "top.png")},
                                             "blueprint": task.blueprint.model_dump(mode="json")})

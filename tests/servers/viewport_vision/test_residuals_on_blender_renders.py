"""Residuals and the colour-aware score on renders from real Blender, both servers over MCP:
moving the block +x moves the residual the right way by about the projected amount, and a pink
block of the right shape ranks clearly below a red one slightly off in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client

from servers.blender_primary.server import create_server as create_worker
from servers.viewport_vision.server import create_server as create_vision

BLOCK = """
import bpy
bpy.ops.mesh.primitive_cube_add(size=1.0, location=({x}, 0.0, 0.6))
block = bpy.context.active_object
block.scale = (1.6, 0.8, 1.2)
mat = bpy.data.materials.new("Paint")
mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = ({colour}, 1.0)
block.data.materials.append(mat)
bpy.ops.mesh.primitive_plane_add(size=8.0)
"""
RED, PINK = "0.80, 0.10, 0.08", "0.69, 0.13, 0.28"
LENS, SENSOR, DISTANCE = 50.0, 36.0, 7.0
RENDER = {"views": ["front", "top", "iso"], "preset": "preview", "resolution": 128, "framing": "fixed",
          "target": [0.0, 0.0, 0.5], "distance": DISTANCE, "lens": LENS}


@pytest.fixture
async def servers(tmp_path: Path):
    async with Client(create_worker(tmp_path / "work", tmp_path / "baselines", tmp_path / "output")) as worker, \
            Client(create_vision([tmp_path])) as vision:
        yield worker, vision


async def _render(worker: Client, x: float, colour: str) -> dict[str, str]:
    await worker.call_tool("reset_to_baseline", {"baseline_id": "empty"})
    report = (await worker.call_tool("execute_code", {"code": BLOCK.format(x=x, colour=colour)})).structured_content
    assert report["success"], report
    pack = (await worker.call_tool("render_pack", RENDER)).structured_content
    return {v: r["path"] for v, r in pack["views"].items()}


async def test_moving_the_block_right_moves_the_residual_right_by_the_projected_amount(servers) -> None:
    worker, vision = servers
    reference = await _render(worker, 0.3, RED)
    moved = await _render(worker, 0.8, RED)
    checked = (await vision.call_tool("check", {"renders": moved, "references": reference})).structured_content
    views = checked["compare"]["views"]
    # front: 0.5 world units at the front face's depth (camera distance − half the block's depth)
    expected = 0.5 / ((DISTANCE - 0.4) * SENSOR / LENS)
    front = views["front"]["residuals"]
    assert front["status"] == "ok"
    assert front["centroid_dx"] == pytest.approx(expected, rel=0.15)
    assert front["left"] > 0 and front["right"] > 0 and abs(front["centroid_dy"]) < 0.01
    assert front["width_ratio"] == pytest.approx(1.0, abs=0.06)
    assert views["top"]["residuals"]["centroid_dx"] > 0.05  # seen from above, still to the right
    assert front["dE2000"] < 2  # the same paint


async def test_a_pink_block_of_the_right_shape_ranks_clearly_below_a_red_one_slightly_off(servers) -> None:
    worker, vision = servers
    reference = await _render(worker, 0.6, RED)
    red_off = await _render(worker, 0.65, RED)
    pink = await _render(worker, 0.6, PINK)
    red_score = (await vision.call_tool("compare", {"renders": red_off, "references": reference})).structured_content
    pink_score = (await vision.call_tool("compare", {"renders": pink, "references": reference})).structured_content
    assert pink_score["views"]["front"]["colour_delta_e"] > 10
    assert pink_score["views"]["front"]["silhouette_iou"] == pytest.approx(1.0, abs=0.01)
    assert pink_score["score"] < red_score["score"] - 0.08, (pink_score["score"], red_score["score"])
    assert pink_score["score"] < 0.9  # a pink block cannot pass the demo's threshold on shape alone

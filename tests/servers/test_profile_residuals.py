"""Silhouette profiles on real renders: each part of one connected silhouette gets residuals of its own.

Three touching balls are one connected component, so per-part residuals see one part; the width per
height band (harness.profiles) still says which ball is too big. The render's profile comes from the
scene (rasterised beyond the frame), so a probe measured without rendering gives the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.profiles import PROFILE_BANDS
from tests.servers.test_scene_measure import RENDER, block, reference, render, servers  # noqa: F401 (fixture)

SNOWMAN = """
import bpy
z = 0.0
for name, r in zip(("Base", "Body", "Head"), {radii}):
    z += r
    bpy.ops.mesh.primitive_uv_sphere_add(radius=r, location=(0.0, 0.0, z), segments=32, ring_count=16)
    bpy.context.active_object.name = name
    bpy.ops.object.shade_smooth()
    z += r * 0.85
"""
STACK = {"target": [0.0, 0.0, 1.2]}


def snowman(*radii: float) -> str:
    return SNOWMAN.format(radii=radii)


def halves(profile: list[float]) -> tuple[list[float], list[float]]:
    """(left edges, right edges), bottom band first."""
    return profile[:PROFILE_BANDS], profile[PROFILE_BANDS:]


async def front_profile(vision, paths: dict[str, str], ref: dict[str, str]) -> list[float]:
    compared = (await vision.call_tool("compare", {"renders": paths, "references": ref})).structured_content
    r = compared["views"]["front"]["residuals"]
    assert r["measured_by"] == "scene", r["note"]
    return r["profile"]


async def test_stacked_spheres_give_each_ball_its_own_width_residual(servers, tmp_path: Path) -> None:
    worker, vision = servers
    ref = await reference(worker, snowman(0.7, 0.5, 0.33), tmp_path / "ref", **STACK)
    truth, _ = await render(worker, snowman(0.7, 0.5, 0.33), tmp_path / "truth", **STACK)
    assert max(abs(v) for v in await front_profile(vision, truth, ref)) < 0.01  # the truth matches everywhere
    for head, sign in ((0.5, 1), (0.2, -1)):  # the head too big, then too small; base and body right
        paths, _ = await render(worker, snowman(0.7, 0.5, head), tmp_path / f"head{head}", **STACK)
        left, right = halves(await front_profile(vision, paths, ref))
        assert sign * right[-1] > 0.01 and sign * left[-1] < -0.01, (left, right)  # the top band: wider / narrower
        assert abs(right[0]) < 0.5 * abs(right[-1]) and abs(left[0]) < 0.5 * abs(left[-1])  # the base band: less so


async def test_a_probe_measures_the_profile_a_render_is_compared_with(servers, tmp_path: Path) -> None:
    worker, vision = servers
    ref = await reference(worker, snowman(0.7, 0.5, 0.33), tmp_path / "ref", **STACK)
    code = snowman(0.6, 0.6, 0.4)
    paths, rendered = await render(worker, code, tmp_path / "r", **STACK)
    compared = (await vision.call_tool("compare", {"renders": paths, "references": ref})).structured_content
    front = compared["views"]["front"]["residuals"]
    await worker.call_tool("reset_to_baseline", {"baseline_id": "empty"})
    probe = (await worker.call_tool("execute_and_measure", {"code": code, **RENDER, **STACK})).structured_content
    measured = probe["measure"]["views"]["front"]["profile"]
    assert measured == pytest.approx(rendered.views["front"].profile, abs=1e-9)
    assert [m - r for m, r in zip(measured, front["reference_profile"])] == pytest.approx(front["profile"], abs=1e-9)


async def test_a_subject_wider_than_the_frame_keeps_its_whole_profile(servers, tmp_path: Path) -> None:
    worker, vision = servers
    ref = await reference(worker, block(x=0.0, sx=2.0), tmp_path / "ref")
    widths = {}
    for sx in (7.0, 7.6):  # both overflow the front view
        paths, measure = await render(worker, block(x=0.0, sx=sx), tmp_path / f"r{sx}")
        left, right = halves(measure.views["front"].profile)
        assert max(left) < 0 and min(right) > 1  # the edges beyond the frame, in every band
        left_r, right_r = halves(await front_profile(vision, paths, ref))
        widths[sx] = right_r[0] - left_r[0]
    assert widths[7.6] > widths[7.0] + 0.05  # and the clipped edges still move


async def test_clipped_is_what_the_scene_reaches_past_the_frame_not_a_lit_ground_at_its_edge(servers, tmp_path: Path
                                                                                           ) -> None:
    worker, vision = servers
    # the front view is 4.75 m wide at the block's front face (6.6 m from the camera): 4.73 m fills the border
    # pixels without reaching past them (as the gate's beam does in its top view); 7 m is cut on both sides
    for sx, cut in ((4.73, False), (7.0, True)):
        paths, _ = await render(worker, block(x=0.0, sx=sx), tmp_path / f"r{sx}")
        report = (await vision.call_tool("sentinel", {"images": paths})).structured_content
        clipped = [i for i in report["issues"] if i["category"] == "clipped" and i["view"] == "front"]
        assert bool(clipped) == cut, report["issues"]
        if cut:
            assert "left" in clipped[0]["message"] and "right" in clipped[0]["message"]

"""Scene-side measurement and background-differenced reference segmentation, on real renders.

Both servers run for real (in-memory MCP clients); a render's side files are written the way the
gateway writes them (harness.measure_files). Cases the colour silhouettes get wrong: a subject
clipped by the frame, a grey box on a grey floor, a shadow under a sun, a thin pole.
"""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from harness.measure_files import write_side_files
from harness.measure_types import SceneMeasure
from servers.blender_primary.server import create_server as create_worker
from servers.viewport_vision.reference_subject import Background, background_difference
from servers.viewport_vision.server import create_server as create_vision
from servers.viewport_vision.subject_masks import mask_overlay

BLOCK = """
import bpy
bpy.ops.mesh.primitive_cube_add(size=1.0, location=({x}, 0.0, {sz} / 2 + {lift}))
block = bpy.context.active_object
block.name = "Block"
block.scale = ({sx}, 0.8, {sz})
mat = bpy.data.materials.new("Paint")
mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = ({colour}, 1.0)
block.data.materials.append(mat)
bpy.ops.mesh.primitive_plane_add(size=12.0)
bpy.context.active_object.name = "Ground"
floor = bpy.data.materials.new("Floor")
floor.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.5, 0.5, 0.5, 1.0)
bpy.context.active_object.data.materials.append(floor)
{extra}
"""
SUN = """
sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", type="SUN"))
sun.data.energy = 4.0
sun.rotation_euler = (1.1, 0.0, -0.9)  # low, from the front left: a long shadow to the back right
bpy.context.scene.collection.objects.link(sun)
"""
POLE = """
import bpy
bpy.ops.mesh.primitive_cylinder_add(radius=0.025, depth=1.6, vertices=16, location=(0.0, 0.0, 0.8))
bpy.context.active_object.name = "Pole"
bpy.ops.mesh.primitive_plane_add(size=8.0)
bpy.context.active_object.name = "Floor"
"""
RED, GREY = "0.80, 0.10, 0.08", "0.5, 0.5, 0.5"
RENDER: dict[str, Any] = {"views": ["front", "iso"], "preset": "preview", "resolution": 128, "framing": "fixed",
                          "target": [0.0, 0.0, 0.5], "distance": 7.0}


@pytest.fixture
async def servers(tmp_path: Path):
    async with Client(create_worker(tmp_path / "work", tmp_path / "baselines", tmp_path / "output")) as worker, \
            Client(create_vision([tmp_path])) as vision:
        yield worker, vision


def block(x: float = 0.4, sx: float = 1.6, sz: float = 1.2, colour: str = RED, extra: str = "", lift: float = 0.0) -> str:
    return BLOCK.format(x=x, sx=sx, sz=sz, colour=colour, extra=extra, lift=lift)


async def render(worker: Client, code: str, dest: Path, **settings: Any) -> tuple[dict[str, str], SceneMeasure]:
    """The program on an empty scene, rendered into `dest` with its side files, as the gateway stores a pack."""
    await worker.call_tool("reset_to_baseline", {"baseline_id": "empty"})
    done = (await worker.call_tool("execute_and_render", {"code": code, **RENDER, **settings, "images": False})).structured_content
    assert done["report"]["success"], done["report"]
    dest.mkdir(parents=True, exist_ok=True)
    paths = {}
    for view, rendered in done["render"]["views"].items():
        paths[view] = str(shutil.copyfile(rendered["path"], dest / f"{view}.png"))
    measure = SceneMeasure.model_validate(done["render"]["measure"])
    write_side_files(measure, dest)
    return paths, measure


async def reference(worker: Client, code: str, dest: Path, background_code: str | None = None,
                    **settings: Any) -> dict[str, str]:
    """A reference (the render of `code`, no side files) beside its background: `background_code` (default: the
    same program) with its subject hidden."""
    paths, _ = await render(worker, code, dest, **settings)
    for view in paths:
        for suffix in (".mask.png", ".measure.json"):
            (dest / f"{view}{suffix}").unlink()
    back, _ = await render(worker, background_code or code, dest / "bg", hide_subject=True, **settings)
    for view, path in back.items():
        shutil.copyfile(path, dest / f"{view}.background.png")
    return paths


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def mask_of(path: str) -> np.ndarray:
    return cv2.imread(path.replace(".png", ".mask.png"), cv2.IMREAD_GRAYSCALE) > 0


async def test_the_scene_mask_is_the_rendered_subject_and_the_ground_is_not_part_of_it(servers, tmp_path: Path) -> None:
    worker, _ = servers
    paths, measure = await render(worker, block(), tmp_path / "r")
    assert measure.subject == ["Block"] and measure.background == ["Ground"]
    rgb = cv2.imread(paths["front"])[:, :, ::-1].astype(int)
    redness = rgb[:, :, 0] - rgb[:, :, 1]
    mask = mask_of(paths["front"])
    red = redness > np.median(redness[mask]) / 2  # an anti-aliased rim pixel counts when it is half covered
    assert iou(mask, red) > 0.94  # (the bottom row, where block and ground meet, is a tie either way)
    front = measure.views["front"]
    assert front.objects[0].base_colour == pytest.approx((0.8, 0.1, 0.08), abs=1e-6)
    assert front.frame_width_m == pytest.approx((7.0 - 0.4) * 36 / 50, rel=0.1)  # at the block's depth


async def test_a_subject_wider_than_the_frame_keeps_a_size_and_a_gradient(servers, tmp_path: Path) -> None:
    worker, vision = servers
    ref = await reference(worker, block(x=0.0, sx=2.0), tmp_path / "ref")
    sizes = {}
    for sx in (7.0, 7.6):  # both overflow the front view (about 4.6 m wide at the block)
        paths, measure = await render(worker, block(x=0.0, sx=sx), tmp_path / f"r{sx}")
        assert measure.views["front"].subject.left < 0 and measure.views["front"].subject.right > 1
        compared = (await vision.call_tool("compare", {"renders": paths, "references": ref})).structured_content
        front = compared["views"]["front"]["residuals"]
        assert front["measured_by"] == "scene", front["note"]
        sizes[sx] = front["width_ratio"]
    assert sizes[7.6] > sizes[7.0] * 1.05  # the clipped edge still moves the width


async def test_a_grey_box_on_a_grey_floor_is_segmented_against_the_background(servers, tmp_path: Path) -> None:
    worker, vision = servers
    ref = await reference(worker, block(colour=GREY), tmp_path / "ref")
    truth, _ = await render(worker, block(colour=GREY), tmp_path / "truth")
    compared = (await vision.call_tool("compare", {"renders": truth, "references": ref})).structured_content
    for view, metrics in compared["views"].items():
        assert metrics["residuals"]["measured_by"] == "scene"
        assert metrics["silhouette_iou"] > 0.9, (view, metrics["silhouette_iou"])
        overlay = cv2.imdecode(np.frombuffer(base64.b64decode(metrics["subject_masks"].split(",", 1)[1]), np.uint8),
                               cv2.IMREAD_COLOR)  # what report.html shows: both subjects, overlapping (yellow)
        assert overlay.shape == (128, 128, 3) and ((overlay[:, :, 1] > 0) & (overlay[:, :, 2] > 0)).sum() > 500
        assert abs(metrics["residuals"]["centroid_dx"]) < 0.01 and abs(metrics["residuals"]["width_ratio"] - 1) < 0.03


async def test_a_shadow_stays_out_of_the_reference_subject(servers, tmp_path: Path) -> None:
    worker, vision = servers
    cycles = {"preset": "final", "samples": 8, "resolution": 96}
    code = block(colour="0.2, 0.3, 0.8", extra=SUN)
    ref = await reference(worker, code, tmp_path / "ref", **cycles)
    truth, _ = await render(worker, code, tmp_path / "truth", **cycles)
    compared = (await vision.call_tool("compare", {"renders": truth, "references": ref})).structured_content
    for view, metrics in compared["views"].items():
        r = metrics["residuals"]
        assert r["measured_by"] == "scene", r["note"]
        assert metrics["silhouette_iou"] > 0.85, (view, metrics["silhouette_iou"])
        assert abs(r["width_ratio"] - 1) < 0.06 and abs(r["height_ratio"] - 1) < 0.06, (view, r)
    image = cv2.imread(ref["iso"])[:, :, ::-1]
    background = cv2.imread(ref["iso"].replace(".png", ".background.png"))[:, :, ::-1]
    kept, _ = background_difference(image, Background.of(background), shadows=True)
    with_shadow, _ = background_difference(image, Background.of(background), shadows=False)
    block_mask = cv2.dilate(mask_of(truth["iso"]).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    shadow = with_shadow & ~kept
    assert shadow.sum() > 40 and (shadow & ~block_mask).sum() > 0.75 * shadow.sum()  # a shadow, on the ground
    assert (kept & ~block_mask).sum() < 0.15 * kept.sum()  # and the subject is the block (and its rim)


async def test_a_thin_pole_is_measured_where_colour_silhouettes_drop_it(servers, tmp_path: Path) -> None:
    worker, _ = servers
    paths, measure = await render(worker, POLE, tmp_path / "r", resolution=96)
    pole = mask_of(paths["front"])
    assert measure.subject == ["Pole"] and measure.background == ["Floor"]
    assert pole.any() and pole.any(axis=1).sum() > 15  # a column of pixels from its foot to its top
    assert measure.views["front"].subject.width < 0.02


async def test_an_unknown_measure_object_is_a_clear_error_listing_the_scene(servers, tmp_path: Path) -> None:
    worker, _ = servers
    await worker.call_tool("reset_to_baseline", {"baseline_id": "empty"})
    done = (await worker.call_tool("execute_and_render", {"code": block(), **RENDER, "subject": ["Mug"],
                                                          "images": False})).structured_content
    assert done["render"] is None
    assert re.search(r"no object named 'Mug'.*objects: Block, Ground", done["render_error"]), done["render_error"]
    with pytest.raises(ToolError, match=r"no object named 'Mug'"):
        await worker.call_tool("execute_and_measure", {"code": block(), **RENDER, "subject": ["Mug"]})


async def test_no_object_and_a_subject_outside_the_frame_say_so(servers, tmp_path: Path) -> None:
    worker, vision = servers
    ref = await reference(worker, block(x=0.0), tmp_path / "ref")
    empty, measure = await render(worker, "import bpy", tmp_path / "empty")
    assert measure.subject == [] and measure.views["front"].subject is None
    compared = (await vision.call_tool("compare", {"renders": empty, "references": ref})).structured_content
    assert compared["views"]["front"]["residuals"]["status"] == "no_subject_in_render"
    away, measure = await render(worker, block(x=0.0, lift=6.0), tmp_path / "away")
    assert measure.views["front"].subject.bottom > 1  # outside, above the frame
    compared = (await vision.call_tool("compare", {"renders": away, "references": ref})).structured_content
    front = compared["views"]["front"]["residuals"]
    assert "entirely outside the frame" in front["note"] and front["centroid_dy"] > 0.5
    assert "outside the frame" in compared["directions"][0]


async def test_a_photograph_as_reference_falls_back_to_pixels_and_says_why(servers, tmp_path: Path) -> None:
    worker, vision = servers
    ref = await reference(worker, block(), tmp_path / "ref")
    rng = np.random.default_rng(0)
    for view, path in ref.items():  # a "photograph": the block on a textured, lit-from-the-side ground
        image = cv2.imread(path).astype(np.float32)
        light = np.linspace(0.6, 1.3, image.shape[1])[None, :, None]
        noisy = image * light + rng.normal(0, 12, image.shape)
        cv2.imwrite(path, np.clip(noisy, 0, 255).astype(np.uint8))
    truth, _ = await render(worker, block(), tmp_path / "truth")
    compared = (await vision.call_tool("compare", {"renders": truth, "references": ref})).structured_content
    front = compared["views"]["front"]["residuals"]
    assert front["measured_by"] == "pixels"
    assert "background does not match" in front["note"]
    assert "background does not match" in compared["directions"][0]


async def test_a_shipped_mask_is_used_and_one_of_the_wrong_size_is_refused(servers, tmp_path: Path) -> None:
    worker, vision = servers
    truth, _ = await render(worker, block(), tmp_path / "truth")
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    ref = {view: str(shutil.copyfile(path, ref_dir / f"{view}.png")) for view, path in truth.items()}
    for view, path in truth.items():
        shutil.copyfile(path.replace(".png", ".mask.png"), ref_dir / f"{view}.mask.png")
    compared = (await vision.call_tool("compare", {"renders": truth, "references": ref})).structured_content
    assert compared["views"]["front"]["silhouette_iou"] == 1.0
    assert compared["views"]["front"]["residuals"]["measured_by"] == "scene"
    cv2.imwrite(str(ref_dir / "front.mask.png"), np.zeros((64, 64), np.uint8))
    (ref_dir / "front.png").touch()  # a new mtime: the reference is read afresh
    with pytest.raises(ToolError, match=r"front.mask.png is 64×64, its image front.png is 128×128"):
        await vision.call_tool("compare", {"renders": truth, "references": ref})


async def test_measure_programs_runs_each_program_from_the_baseline_as_one_call_at_a_time_would(servers) -> None:
    """The parametric search's probes of one anchor go to the worker in one call; each still starts from the
    baseline (the second block's measurement does not see the first), and each measures as execute_and_measure."""
    worker, _ = servers
    codes = [block(x=-0.8), block(x=0.8, sx=0.6), "raise ValueError('a probe that fails')"]
    batch = (await worker.call_tool("measure_programs", {"codes": codes, "baseline_id": "empty", **RENDER})).structured_content
    alone = []
    for code in codes:
        await worker.call_tool("reset_to_baseline", {"baseline_id": "empty"})
        alone.append((await worker.call_tool("execute_and_measure", {"code": code, **RENDER})).structured_content)
    runs = batch["runs"]
    assert [r["measure"]["subject"] if r["measure"] else None for r in runs] == [["Block"], ["Block"], None]
    assert not runs[2]["report"]["success"]
    for got, want in zip(runs, alone):
        assert (got["measure"] or {}).get("views") == (want["measure"] or {}).get("views")
    assert runs[0]["measure"]["views"]["front"]["subject"]["cx"] < 0.5 < runs[1]["measure"]["views"]["front"]["subject"]["cx"]


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (96, 130)])
def test_the_mask_overlay_decodes_to_render_green_reference_red_both_yellow(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    render, reference = rng.random(shape) < 0.4, rng.random(shape) < 0.5
    url = mask_overlay(render, reference)
    assert url.startswith("data:image/png;base64,")
    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    expected = np.zeros((*shape, 3), np.uint8)
    expected[render, 1] = 255  # BGR
    expected[reference, 2] = 255
    assert decoded is not None and (decoded == expected).all()

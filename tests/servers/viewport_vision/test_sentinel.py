"""Sentinel checks on synthetic frames and scene facts with known answers."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from fastmcp import Client

from harness.scene_types import MeshStats, ObjectSummary, SceneInfo
from servers.viewport_vision.images import LoadedImage
from servers.viewport_vision.sentinel import SentinelThresholds, sentinel_check
from servers.viewport_vision.server import create_server

BACKGROUND = (64, 64, 70)


def frame(centre: tuple[int, int] = (128, 128), radius: int = 40, colour=(200, 60, 40), floor: bool = False) -> LoadedImage:
    img = np.full((256, 256, 3), BACKGROUND, np.uint8)
    if floor:  # a ground plane seen from the front: a flat band along the bottom of the frame
        img[180:] = (120, 120, 118)
    cv2.circle(img, centre, radius, colour, -1)
    return LoadedImage.from_array(img)


def categories(report, view: str | None = None) -> set[str]:
    return {i.category for i in report.issues if view is None or i.view == view}


def test_centred_subject_raises_no_issue() -> None:
    report = sentinel_check({"front": frame()})
    assert report.issues == [] and report.passed
    stats = report.views["front"]
    assert stats.touches_border == [] and stats.centre_offset < 0.05
    assert abs(stats.coverage - np.pi * 40**2 / 256**2) < 0.005


def test_subject_touching_the_border_is_flagged_clipped_with_auto_framing() -> None:
    report = sentinel_check({"front": frame(centre=(20, 128))})
    (issue,) = [i for i in report.issues if i.category == "clipped"]
    assert issue.severity == "error" and not report.passed
    assert "left" in issue.message and issue.suggested_tool == "render_pack"
    assert issue.suggested_args["framing"] == "auto"


def test_black_frame_is_flagged_blank_and_dark() -> None:
    report = sentinel_check({"front": LoadedImage.from_array(np.zeros((128, 128, 3), np.uint8))})
    assert {"blank", "too_dark"} <= categories(report)
    dark = next(i for i in report.issues if i.category == "too_dark")
    assert dark.value == 0.0 and dark.threshold == SentinelThresholds().dark_luma


def test_tiny_subject_is_too_small_not_blank() -> None:
    report = sentinel_check({"front": frame(radius=4)})
    assert categories(report) == {"too_small"}


def test_subject_in_a_corner_is_off_centre() -> None:
    assert categories(sentinel_check({"front": frame(centre=(215, 215), radius=20)})) == {"off_centre"}


def test_white_subject_is_overexposed() -> None:
    assert categories(sentinel_check({"front": frame(colour=(255, 255, 255), radius=60)})) == {"overexposed"}


def test_ground_plane_reaching_the_border_is_background_not_a_clipped_subject() -> None:
    report = sentinel_check({"front": frame(centre=(128, 150), floor=True)})
    assert report.issues == []
    assert abs(report.views["front"].coverage - np.pi * 40**2 / 256**2) < 0.005


def _floor_band_frame(centre_y: int = 160) -> LoadedImage:
    """A finite ground plane seen edge-on: a flat band crossing the frame, not reaching the corners."""
    img = np.full((256, 256, 3), BACKGROUND, np.uint8)
    img[170:190] = (110, 110, 112)
    cv2.circle(img, (128, centre_y), 30, (200, 60, 40), -1)
    return LoadedImage.from_array(img)


def test_floor_band_crossing_the_frame_is_background_when_the_scene_may_have_a_floor() -> None:
    ground = _obj("Ground", (-3, -3, 0), (3, 3, 0), materials=[])
    for scene in (None, _scene(ground, _obj("Ball", (-0.5, -0.5, 0), (0.5, 0.5, 1)))):
        report = sentinel_check({"front": _floor_band_frame()}, scene)
        assert report.issues == [], scene
        assert abs(report.views["front"].coverage - np.pi * 30**2 / 256**2) < 0.005


def test_band_crossing_the_frame_is_a_clipped_subject_when_the_scene_has_no_floor() -> None:
    report = sentinel_check({"front": _floor_band_frame()}, _scene(_obj("Ball", (-0.5, -0.5, 0), (0.5, 0.5, 1))))
    clipped = next(i for i in report.issues if i.category == "clipped")
    assert "left" in clipped.message and "right" in clipped.message


def test_subject_with_sky_between_it_and_the_floor_is_floating_in_the_view() -> None:
    report = sentinel_check({"front": _floor_band_frame(centre_y=90)})
    (issue,) = report.issues
    assert (issue.category, issue.view, issue.suggested_tool) == ("floating", "front", "transform_to_floor")
    assert issue.value == pytest.approx((170 - 121) / 256, abs=0.01)


def test_thresholds_are_configurable() -> None:
    strict = SentinelThresholds(min_extent=0.5)
    assert categories(sentinel_check({"front": frame()}, thresholds=strict)) == {"too_small"}


def _obj(name: str, low: tuple[float, float, float], high: tuple[float, float, float], **extra) -> ObjectSummary:
    dims = tuple(h - lo for lo, h in zip(low, high))
    centre = tuple((lo + h) / 2 for lo, h in zip(low, high))
    fields = dict(name=name, type="MESH", location=centre, rotation_euler=(0, 0, 0), scale=(1, 1, 1), dimensions=dims,
                  bbox_min=low, bbox_max=high, mesh=MeshStats(verts=8, edges=12, faces=6, non_manifold_edges=0),
                  materials=["Paint"])
    return ObjectSummary(**{**fields, **extra})


def _scene(*objects: ObjectSummary) -> SceneInfo:
    return SceneInfo(scene="Scene", unit_system="METRIC", unit_scale=1.0, camera=None, render_engine="BLENDER_WORKBENCH",
                     frame=1, objects=list(objects))


def test_floating_object_suggests_transform_to_floor_with_its_name() -> None:
    report = sentinel_check({}, _scene(_obj("Cube", (-1, -1, 1.5), (1, 1, 3.5))))
    (issue,) = report.issues
    assert (issue.category, issue.object_name, issue.suggested_tool) == ("floating", "Cube", "transform_to_floor")
    assert issue.suggested_args == {"names": ["Cube"]} and issue.value == 1.5


def test_object_resting_on_another_is_not_floating() -> None:
    table = _obj("Table", (-1, -1, 0), (1, 1, 1))
    cup = _obj("Cup", (-0.1, -0.1, 1.0), (0.1, 0.1, 1.2))
    assert sentinel_check({}, _scene(table, cup)).issues == []


def test_object_below_the_ground_is_flagged() -> None:
    report = sentinel_check({}, _scene(_obj("Cube", (-1, -1, -0.5), (1, 1, 1.5))))
    assert [(i.category, i.suggested_tool) for i in report.issues] == [("below_ground", "transform_to_floor")]


def test_absurd_scale_suggests_normalize_scale() -> None:
    report = sentinel_check({}, _scene(_obj("Ship", (-2000, -10, 0), (2000, 10, 40))))
    (issue,) = report.issues
    assert (issue.category, issue.suggested_tool, issue.suggested_args["name"]) == ("absurd_scale", "normalize_scale", "Ship")


def test_object_far_from_the_origin_is_a_warning() -> None:
    report = sentinel_check({}, _scene(_obj("Rock", (499, 0, 0), (501, 2, 2))))
    (issue,) = report.issues
    assert (issue.category, issue.severity) == ("far_from_origin", "warning") and issue.value > 499


def test_non_manifold_edges_and_missing_materials_are_warnings() -> None:
    broken = _obj("Hull", (-1, -1, 0), (1, 1, 1), materials=[],
                  mesh=MeshStats(verts=8, edges=12, faces=5, non_manifold_edges=4))
    report = sentinel_check({}, _scene(broken))
    assert categories(report) == {"non_manifold", "missing_material"}
    assert report.passed  # warnings do not fail the check


async def test_sentinel_tool_reads_paths_and_scene_facts(tmp_path: Path) -> None:
    path = tmp_path / "front.png"
    cv2.imwrite(str(path), cv2.cvtColor(frame(centre=(20, 128)).rgb, cv2.COLOR_RGB2BGR))
    scene = _scene(_obj("Cube", (-1, -1, 2), (1, 1, 4)))
    async with Client(create_server([tmp_path])) as client:
        result = await client.call_tool("sentinel", {"images": {"front": str(path)}, "scene_info": scene.model_dump(mode="json")})
    data = result.structured_content
    assert {i["category"] for i in data["issues"]} == {"clipped", "floating"}
    assert data["passed"] is False


def test_a_gap_the_pixels_show_is_not_floating_when_the_scene_says_the_subject_stands_on_the_ground() -> None:
    """A dark pole against a dark sky is lost to the silhouette and the shade seems to hang in the air; Blender
    knows the lamp's base rests on the ground, and what the scene knows exactly overrules the pixel guess."""
    image = _floor_band_frame(centre_y=90)
    assert "floating" in categories(sentinel_check({"front": image})), "the pixels alone show a gap"
    scene = _scene(_obj("Ground", (-4, -4, 0), (4, 4, 0)), _obj("Lamp", (-0.2, -0.2, 0), (0.2, 0.2, 1.6)))
    assert "floating" not in categories(sentinel_check({"front": image}, scene))
    lifted = _scene(_obj("Ground", (-4, -4, 0), (4, 4, 0)), _obj("Lamp", (-0.2, -0.2, 0.5), (0.2, 0.2, 2.1)))
    assert categories(sentinel_check({"front": image}, lifted), "front") == {"floating"}, "a real float keeps its views"

"""Metrics against references: known answers, monotonic score, sizes, and pHash."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from fastmcp import Client

from servers.viewport_vision.errors import CompareInputError
from servers.viewport_vision.images import LoadedImage
from servers.viewport_vision.metrics import compare_views, view_metrics
from servers.viewport_vision.phash import hamming, phash_bits, phash_hex
from servers.viewport_vision.server import create_server


def shape(dx: int = 0, size: int = 256) -> LoadedImage:
    """A render-like frame: uniform world, a lit box with a darker side and a disc on top."""
    k = size / 256
    img = np.full((size, size, 3), (58, 58, 64), np.uint8)
    x = int((96 + dx) * k)
    cv2.rectangle(img, (x, int(110 * k)), (x + int(64 * k), int(190 * k)), (190, 50, 40), -1)
    cv2.rectangle(img, (x + int(64 * k), int(118 * k)), (x + int(80 * k), int(190 * k)), (120, 30, 25), -1)
    cv2.circle(img, (x + int(40 * k), int(90 * k)), int(22 * k), (220, 220, 210), -1)
    return LoadedImage.from_array(img)


def test_identical_images_score_one_with_zero_pixel_loss() -> None:
    result = compare_views({"front": shape(), "iso": shape(30)}, {"front": shape(), "iso": shape(30)})
    for m in (*result.views.values(), result.mean):
        assert (m.pixel_loss, m.ssim, m.silhouette_iou, m.edge_distance, m.phash_distance) == (0.0, pytest.approx(1.0), 1.0, 0.0, 0)
        assert m.score == 1.0
    assert result.score == 1.0


def test_score_falls_monotonically_as_the_shape_moves_away() -> None:
    """While the shape stays in frame (past dx 64 it leaves it, and pixel loss falls again)."""
    reference = shape()
    scores = [view_metrics(shape(dx), reference).score for dx in (0, 3, 8, 16, 32, 48, 64)]
    assert all(a > b for a, b in zip(scores, scores[1:])), scores
    assert scores[-1] < 0.5


def test_pixel_loss_is_mse_over_rgb_in_unit_range() -> None:
    black = LoadedImage.from_array(np.zeros((16, 16, 3), np.uint8))
    half = np.zeros((16, 16, 3), np.uint8)
    half[:, :8] = 255
    assert view_metrics(LoadedImage.from_array(half), black).pixel_loss == pytest.approx(0.5)


def test_reference_of_another_size_is_resized_to_the_render() -> None:
    metrics = view_metrics(shape(size=256), shape(size=512))
    assert metrics.resized_reference and metrics.score > 0.9


def test_reference_of_another_aspect_ratio_is_refused() -> None:
    wide = LoadedImage.from_array(np.zeros((256, 400, 3), np.uint8), "reference")
    with pytest.raises(CompareInputError, match=r"^\[COMPARE_INPUT\].*aspect"):
        view_metrics(shape(), wide)


def test_views_without_a_counterpart_are_listed_and_not_scored() -> None:
    result = compare_views({"front": shape(), "top": shape()}, {"front": shape(), "side": shape()})
    assert list(result.views) == ["front"] and result.missing_references == ["side", "top"]
    with pytest.raises(CompareInputError, match="no view in common"):
        compare_views({"top": shape()}, {"side": shape()})


def test_phash_is_stable_and_separates_different_images() -> None:
    digest = phash_hex(shape().rgb)
    assert len(digest) == 16 and digest == phash_hex(shape().rgb)
    noise = np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    near = hamming(phash_bits(shape().rgb), phash_bits(shape(size=512).rgb))
    far = hamming(phash_bits(shape().rgb), phash_bits(noise))
    assert near <= 6 < 20 <= far


async def test_compare_tool_scores_views_over_mcp(tmp_path) -> None:
    paths = {}
    for name, image in {"render": shape(10), "reference": shape()}.items():
        paths[name] = tmp_path / f"{name}.png"
        cv2.imwrite(str(paths[name]), cv2.cvtColor(image.rgb, cv2.COLOR_RGB2BGR))
    async with Client(create_server([tmp_path])) as client:
        result = await client.call_tool("compare", {"renders": {"front": str(paths["render"])},
                                                    "references": {"front": str(paths["reference"])}})
        hashed = await client.call_tool("phash", {"image": str(paths["reference"])})
    data = result.structured_content
    assert 0.4 < data["score"] < 1.0 and set(data["views"]) == {"front"}
    assert hashed.structured_content["phash"] == phash_hex(shape().rgb)


def test_the_pixel_loss_grid_says_where_the_loss_is_and_averages_to_the_pixel_loss() -> None:
    reference = np.zeros((90, 90, 3), np.uint8)
    render = reference.copy()
    render[0:30, 60:90] = 255  # only the top-right cell differs
    m = view_metrics(LoadedImage.from_array(render), LoadedImage.from_array(reference))
    assert m.pixel_loss_grid == [0, 0, 1.0, 0, 0, 0, 0, 0, 0]
    assert sum(m.pixel_loss_grid) / 9 == pytest.approx(m.pixel_loss)

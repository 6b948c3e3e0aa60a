"""Residuals (VIS-05): signs and sizes on images with a known change, ΔE2000 against published
values, the same numbers for the same images, and clear statuses where a subject is missing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from harness.residuals import NAMED, VECTOR_NAMES
from servers.viewport_vision.errors import CompareInputError
from servers.viewport_vision.images import LoadedImage
from servers.viewport_vision.metrics import compare_views, view_metrics
from servers.viewport_vision.residuals import ciede2000

SIZE = 200
BACKGROUND = (40, 40, 46)
RED = (200, 40, 30)


def box(x: int = 70, y: int = 80, w: int = 60, h: int = 40, colour: tuple[int, int, int] = RED,
        size: int = SIZE, aspect: float = 1.0) -> LoadedImage:
    img = np.full((size, int(size * aspect), 3), BACKGROUND, np.uint8)
    if w and h:
        cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), colour, -1)
    return LoadedImage.from_array(img)


def residuals(render: LoadedImage, reference: LoadedImage):
    r = view_metrics(render, reference).residuals
    assert r is not None
    return r


def test_a_shift_right_and_up_reads_as_positive_edges_and_centroid_of_that_size() -> None:
    r = residuals(box(x=90, y=70), box())
    assert r.status == "ok"
    for name in ("left", "right", "centroid_dx"):
        assert getattr(r, name) == pytest.approx(20 / SIZE, abs=1e-6)
    for name in ("top", "bottom", "centroid_dy"):  # y is up: a box drawn 10 px higher
        assert getattr(r, name) == pytest.approx(10 / SIZE, abs=1e-6)
    assert (r.width_ratio, r.height_ratio, r.area_ratio, r.aspect_ratio) == pytest.approx((1.0, 1.0, 1.0, 1.0))
    assert r.dE2000 == pytest.approx(0.0, abs=1e-6)


def test_a_wider_box_reads_as_a_width_ratio_and_moves_only_the_right_edge() -> None:
    r = residuals(box(w=72), box(w=60))
    assert r.width_ratio == pytest.approx(1.2) and r.height_ratio == pytest.approx(1.0)
    assert r.area_ratio == pytest.approx(1.2) and r.aspect_ratio == pytest.approx(1.2)
    assert r.left == 0.0 and r.right == pytest.approx(12 / SIZE)
    assert r.centroid_dx == pytest.approx(6 / SIZE)


def test_colour_residuals_take_the_sign_of_the_change_in_lab() -> None:
    pinker = residuals(box(colour=(200, 90, 150)), box())
    assert pinker.db < -10 and pinker.dL > 0 and pinker.dE2000 > 10  # bluer and lighter than red
    darker = residuals(box(colour=(120, 24, 18)), box())
    assert darker.dL < -10 and darker.da < 0
    assert residuals(box(), box()).dE2000 == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(("lab1", "lab2", "expected"), [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),  # Sharma, Wu & Dalal (2005), table 1
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
])
def test_ciede2000_matches_the_published_test_pairs(lab1, lab2, expected) -> None:
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert ciede2000(lab2, lab1) == pytest.approx(expected, abs=1e-4)


def test_colour_in_place_is_measured_where_the_reference_subject_is() -> None:
    same_place = residuals(box(colour=(120, 24, 18)), box())
    assert same_place.dL_in_place == pytest.approx(same_place.dL, abs=0.5)
    camouflaged = residuals(box(colour=(44, 44, 50)), box())  # the render's box is nearly background
    assert camouflaged.dL_in_place < -10 and camouflaged.da_in_place < -20  # in place: much darker, far less red


def test_the_same_images_give_the_same_numbers() -> None:
    a = residuals(box(x=83, w=51, colour=(180, 60, 90)), box())
    b = residuals(box(x=83, w=51, colour=(180, 60, 90)), box())
    assert a == b
    assert len(a.vector()) == len(VECTOR_NAMES)


def test_parts_are_matched_by_size_and_measured_each() -> None:
    img = np.full((SIZE, SIZE, 3), BACKGROUND, np.uint8)
    ref = img.copy()
    cv2.rectangle(ref, (20, 100), (99, 139), RED, -1)
    cv2.rectangle(ref, (140, 110), (159, 129), (30, 160, 40), -1)
    render = img.copy()
    cv2.rectangle(render, (20, 100), (99, 139), RED, -1)
    cv2.rectangle(render, (150, 110), (169, 129), (30, 160, 40), -1)  # the small green part moved right
    r = residuals(LoadedImage.from_array(render), LoadedImage.from_array(ref))
    assert [p.index for p in r.parts] == [0, 1]
    assert r.parts[0].centroid_dx == pytest.approx(0.0) and r.parts[1].centroid_dx == pytest.approx(10 / SIZE)
    assert "part 2" in r.describe("front")


def test_no_subject_in_the_render_is_a_status_and_a_large_residual_not_a_crash() -> None:
    r = residuals(box(w=0, h=0), box())
    assert r.status == "no_subject_in_render" and r.left is None
    vector = r.vector()
    assert min(vector[:len(NAMED) - 3] + vector[len(NAMED):]) >= 1.0  # geometry and profile: far off
    assert r.dL_in_place < 0  # in place: background where the box should be
    assert "nothing visible in the render" in r.describe("front")


def test_a_reference_with_no_subject_says_so() -> None:
    r = residuals(box(), box(w=0, h=0))
    assert r.status == "no_subject_in_reference" and r.dE2000 is None
    assert "reference shows no subject" in r.describe("side")
    assert view_metrics(box(), box(w=0, h=0)).colour_delta_e is None


def test_a_reference_of_another_aspect_ratio_is_a_clear_error() -> None:
    with pytest.raises(CompareInputError, match="aspect ratios differ"):
        compare_views({"front": box()}, {"front": box(aspect=1.5)})


def test_directions_are_written_out_in_words() -> None:
    text = residuals(box(x=50, w=48, colour=(200, 90, 150)), box()).describe("front")
    assert text.startswith("front: 20% narrower")
    assert "to the left" in text and "colour off by ΔE" in text and "bluer (Δb" in text
    assert residuals(box(), box()).describe("iso") == "iso: matches the reference in size, place and colour"


def test_a_colour_change_alone_costs_more_score_than_a_one_pixel_shift() -> None:
    reference = box()
    shifted = view_metrics(box(x=71), reference).score
    pink = view_metrics(box(colour=(200, 90, 150)), reference).score
    assert pink < shifted - 0.1

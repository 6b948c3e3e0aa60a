"""Reading plans: the example's drawings (made from Blender renders of its truth) and drawings
drawn here with OpenCV carrying what real plans carry (title, dimension lines, hatching, a
dash-dot centre line), read back to the subject's silhouette; and the drawings it refuses."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from harness.blueprint_drawing import DrawingError, load_drawing, read_drawing, read_drawing_file

HULL = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hull"
SPAN_M = 30.0


def _extent_m(mask: np.ndarray, scale: int, width_px: int) -> tuple[float, float]:
    ys, xs = np.nonzero(mask)
    s = SPAN_M / width_px * scale
    return (xs.max() - xs.min() + 1) * s, (ys.max() - ys.min() + 1) * s


@pytest.mark.parametrize(("view", "width_m", "height_m", "parts"), [("side", 24.0, 9.5, 3), ("top", 5.0, 24.0, 3)])
def test_the_example_plans_read_to_the_truths_sizes(view: str, width_m: float, height_m: float, parts: int) -> None:
    grey = load_drawing(HULL / "plans" / f"{view}.png")
    drawing = read_drawing(grey)
    w, h = _extent_m(drawing.mask, drawing.scale, grey.shape[1])
    assert w == pytest.approx(width_m, rel=0.01) and h == pytest.approx(height_m, rel=0.01)
    assert drawing.parts == parts  # hull, superstructure, funnel: the dash-dot centre line splits nothing
    assert drawing.dropped >= 1  # the title and the dimension labels were there and were left out


def _sheet(w: int = 1600, h: int = 800) -> np.ndarray:
    return np.full((h, w), 255, np.uint8)


def _plan_with_furniture() -> tuple[np.ndarray, np.ndarray]:
    """A two-part body (a box and a cabin on it) with hatching, a title, dimension lines and a centre line."""
    img = _sheet()
    truth = np.zeros_like(img, bool)
    truth[400:700, 300:1300] = True
    truth[250:400, 600:900] = True
    cv2.rectangle(img, (300, 400), (1299, 699), 0, 3)
    cv2.rectangle(img, (600, 250), (899, 400), 0, 3)
    for x in range(320, 560, 24):  # hatching in the box's left end
        cv2.line(img, (x, 690), (x + 40, 420), 0, 1)
    cv2.putText(img, "MODEL BARGE - ELEVATION", (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 4)
    cv2.putText(img, "HULL", (420, 600), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)  # a label inside
    for x in (300, 1299):  # extension lines with the customary gap, and the dimension line
        cv2.line(img, (x, 385), (x, 150), 0, 1)
    cv2.arrowedLine(img, (300, 170), (1299, 170), 0, 1, tipLength=0.02)
    cv2.putText(img, "20.0 m", (760, 160), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
    for y in range(200, 760, 40):  # a vertical dash-dot centre line through the body
        cv2.line(img, (800, y), (800, y + 24), 0, 1)
        cv2.line(img, (800, y + 30), (800, y + 32), 0, 1)
    return img, truth


def test_title_dimensions_hatching_labels_and_centre_line_are_ignored() -> None:
    img, truth = _plan_with_furniture()
    drawing = read_drawing(img)
    mask = cv2.resize(drawing.mask.astype(np.uint8), (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.98
    assert drawing.parts >= 2  # box and cabin (hatching cells are too small to count)


def test_an_open_outline_is_refused() -> None:
    img = _sheet()
    cv2.rectangle(img, (300, 300), (1300, 600), 0, 3)
    cv2.line(img, (700, 600), (800, 600), 255, 5)  # a 100-px gap in the bottom line
    cv2.putText(img, "OPEN BOX", (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 4)
    with pytest.raises(DrawingError, match="outline cannot be closed"):
        read_drawing(img)


def test_a_small_gap_in_the_outline_is_closed() -> None:
    img = _sheet()
    cv2.rectangle(img, (300, 300), (1300, 600), 0, 3)
    cv2.line(img, (700, 600), (704, 600), 255, 5)  # a 5-px break, as a scan leaves
    drawing = read_drawing(img)
    w, h = _extent_m(drawing.mask, drawing.scale, img.shape[1])
    assert w == pytest.approx(1000 * SPAN_M / 1600, rel=0.01) and h == pytest.approx(300 * SPAN_M / 1600, rel=0.02)


def test_a_blank_page_and_a_frame_on_every_border_are_refused() -> None:
    with pytest.raises(DrawingError, match="no dark line work"):
        read_drawing(_sheet())
    framed, _ = _plan_with_furniture()
    cv2.rectangle(framed, (0, 0), (framed.shape[1] - 1, framed.shape[0] - 1), 0, 2)
    with pytest.raises(DrawingError, match="touches every border"):
        read_drawing(framed)


def test_unreadable_empty_and_oversized_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(DrawingError, match="empty file"):
        read_drawing_file(tmp_path / "empty.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(DrawingError, match="not a readable PNG or JPEG"):
        read_drawing_file(tmp_path / "text.png")
    cv2.imwrite(str(tmp_path / "wide.png"), np.full((16, 8200), 255, np.uint8))
    with pytest.raises(DrawingError, match="8200×16 px; a drawing may be at most 8192"):
        read_drawing_file(tmp_path / "wide.png")

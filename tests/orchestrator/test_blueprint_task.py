"""[blueprint] in task files and inline tasks: the drawings are read when the task is loaded, and
each bad input is an error naming the key; a run folder's copy of the task loads again."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from harness.blueprint_types import PLAN_RENDER_PX
from orchestrator.artifacts import RunFolder
from orchestrator.errors import TaskError
from orchestrator.task import inline_task, load_task

from tests.orchestrator.conftest import PNG

HULL = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hull"

BODY = '''name = "barge"
description = "a barge"
[start]
program = "start.py"
[blueprint]
span_m = 30.0
side = "plans/side.png"
top = "plans/top.png"
'''


def _task(tmp_path: Path, body: str = BODY) -> Path:
    shutil.copytree(HULL / "plans", tmp_path / "plans", dirs_exist_ok=True)
    (tmp_path / "start.py").write_text("x = 1.0  # param 0..2\n")
    (tmp_path / "ref").mkdir(exist_ok=True)
    (tmp_path / "ref" / "side.png").write_bytes(PNG)
    path = tmp_path / "task.toml"
    path.write_text(body)
    return path


def test_the_hull_task_loads_with_its_plans_and_default_origins() -> None:
    task = load_task(HULL / "task.toml")
    bp = task.blueprint
    assert bp is not None and bp.span_m == 30.0 and set(bp.views) == {"side", "top"}
    assert bp.views["side"].size_px == (2048, 956) and bp.views["side"].origin_px == (1024.0, 956.0)
    assert bp.views["top"].origin_px == (1024.0, 1024.0)
    cams = {c.name: c for c in bp.cameras()}
    assert (cams["plan_side"].width, cams["plan_side"].height) == (PLAN_RENDER_PX, round(PLAN_RENDER_PX * 956 / 2048))
    assert cams["plan_side"].centre[1] == pytest.approx(956 / 2 * 30 / 2048)  # bottom edge at z = 0
    assert task.references == {}


def test_origin_px_overrides_the_origin(tmp_path: Path) -> None:
    body = BODY.replace('top = "plans/top.png"', '[blueprint.top]\nimage = "plans/top.png"\norigin_px = [1000, 1100]')
    task = load_task(_task(tmp_path, body))
    assert task.blueprint.views["top"].origin_px == (1000.0, 1100.0)
    s = 30 / 2048
    assert task.blueprint.views["top"].centre(30.0) == pytest.approx((24 * s, 76 * s))  # the origin lies left of and below the centre


def _broken(tmp_path: Path, name: str, image: np.ndarray | bytes) -> None:
    path = tmp_path / "plans" / name
    if isinstance(image, bytes):
        path.write_bytes(image)
    else:
        cv2.imwrite(str(path), image)


def _open_outline() -> np.ndarray:
    img = np.full((600, 1200), 255, np.uint8)
    cv2.rectangle(img, (200, 200), (1000, 500), 0, 3)
    cv2.line(img, (500, 500), (650, 500), 255, 7)
    return img


def _framed() -> np.ndarray:
    img = cv2.imread(str(HULL / "plans" / "side.png"), cv2.IMREAD_GRAYSCALE)
    cv2.rectangle(img, (0, 0), (img.shape[1] - 1, img.shape[0] - 1), 0, 3)
    return img


@pytest.mark.parametrize(("change", "key", "words"), [
    (("span_m = 30.0\n", ""), "blueprint.span_m", "required"),
    (("span_m = 30.0", "span_m = 0.0"), "blueprint.span_m", "must be > 0"),
    (("span_m = 30.0", "span_m = -3"), "blueprint.span_m", "must be > 0"),
    (('top = "plans/top.png"', 'iso = "plans/top.png"'), "blueprint.iso", "unknown view"),
    (('top = "plans/top.png"', 'top = "plans/missing.png"'), "blueprint.top", "file not found"),
    (('top = "plans/top.png"', 'top = "plans/empty.png"'), "blueprint.top", "empty file"),
    (('top = "plans/top.png"', 'top = "plans/text.png"'), "blueprint.top", "not a readable PNG or JPEG"),
    (('top = "plans/top.png"', 'top = "plans/huge.png"'), "blueprint.top", "at most 8192 px"),
    (('top = "plans/top.png"', 'top = "plans/open.png"'), "blueprint.top", "outline cannot be closed"),
    (('top = "plans/top.png"', 'top = "plans/framed.png"'), "blueprint.top", "touches every border"),
    (("[blueprint]", "[reference]\nside = \"ref/side.png\"\n[blueprint]"), "blueprint.side", "perspective reference too"),
    (('top = "plans/top.png"', '[blueprint.top]\nimage = "plans/top.png"\norigin_px = [1, "a"]'), "blueprint.top.origin_px", "[x, y]"),
])
def test_each_bad_blueprint_is_an_error_naming_the_key(tmp_path: Path, change: tuple[str, str], key: str, words: str) -> None:
    path = _task(tmp_path, BODY.replace(*change))
    _broken(tmp_path, "empty.png", b"")
    _broken(tmp_path, "text.png", b"this is not an image")
    _broken(tmp_path, "huge.png", np.full((8, 8193), 255, np.uint8))
    _broken(tmp_path, "open.png", _open_outline())
    _broken(tmp_path, "framed.png", _framed())
    with pytest.raises(TaskError) as err:
        load_task(path)
    assert str(path) in str(err.value) and key in str(err.value) and words in str(err.value), str(err.value)


def test_an_inline_blueprint_takes_paths_and_base64(tmp_path: Path) -> None:
    side = base64.b64encode((HULL / "plans" / "side.png").read_bytes()).decode()
    task = inline_task("a hull", None, tmp_path / "staging", allowed_roots=[HULL],
                       blueprint={"span_m": 30.0, "side": side, "top": {"image": str(HULL / "plans" / "top.png")}})
    assert task.blueprint.views["side"].image.parent == (tmp_path / "staging").resolve()
    assert task.blueprint.views["top"].image == (HULL / "plans" / "top.png").resolve()
    with pytest.raises(TaskError, match="inline task: blueprint.front: .*outside the allowed roots"):
        inline_task("a hull", None, tmp_path / "staging", allowed_roots=[tmp_path],
                    blueprint={"span_m": 30.0, "front": str(HULL / "plans" / "top.png")})
    with pytest.raises(TaskError, match="inline task: blueprint.span_m: required"):
        inline_task("a hull", None, tmp_path / "staging", blueprint={"side": side})


def test_a_run_folders_copy_of_the_task_loads_again_with_its_plans(tmp_path: Path) -> None:
    task = load_task(HULL / "task.toml")
    folder = RunFolder.create(tmp_path / "runs", task)
    again = load_task(folder.root / "task.toml")
    assert again.blueprint == task.blueprint.model_copy(update={"views": {
        v: bv.model_copy(update={"image": (folder.root / "plans" / f"{v}.png").resolve()})
        for v, bv in task.blueprint.views.items()}})
    assert again.start_code == task.start_code

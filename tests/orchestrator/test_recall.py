"""Cross-run recall over real run folders and real PNGs: the index, the look-up, its repair, the warm start."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from orchestrator.recall import INDEX_FILE, RecallStore
from orchestrator.state import RunConfig
from orchestrator.task import load_task
from orchestrator.warm_start import warm_start

START = '''import bpy
size = (1.0, 1.0, 1.0)  # param 0.2..3.0
offset_x = 0.0  # param -1.5..1.5
color = (0.5, 0.5, 0.5)  # param 0.0..1.0
'''


def block_png(path: Path, bgr: tuple[int, int, int], width: int, height: int, x: int = 64) -> Path:
    """A grey ground with one coloured block: what a render of the red_block family looks like."""
    image = np.full((128, 128, 3), 150, np.uint8)
    image[:64] = 200
    cv2.rectangle(image, (x - width // 2, 100 - height), (x + width // 2, 100), bgr, -1)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)
    return path


def past_run(runs: Path, run_id: str, bgr: tuple[int, int, int], width: int, height: int, status: str = "completed",
             values: str = "(1.6, 0.8, 1.2)", score: float | None = 0.93, description: str = "A red block") -> Path:
    root = runs / run_id
    block_png(root / "ref" / "front.png", bgr, width, height)
    (root / "task.toml").write_text(f'name = "block"\ndescription = "{description}"\n')
    (root / "run.json").write_text(json.dumps({"run_id": run_id, "status": status, "config": {"builder": "parametric"}}))
    if score is not None:
        it = root / "attempts/attempt-000/iterations/iter-003"
        block_png(it / "renders" / "front.png", bgr, width - 2, height)
        (it / "code.py").write_text(START.replace("(1.0, 1.0, 1.0)", values))
        (root / "best_attempt.json").write_text(json.dumps({
            "attempt": 0, "iteration": 3, "score": score, "code": "attempts/attempt-000/iterations/iter-003/code.py",
            "renders": {"front": "attempts/attempt-000/iterations/iter-003/renders/front.png"}}))
    return root


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    past_run(runs, "r1_red_wide", (30, 30, 200), 60, 40)
    past_run(runs, "r2_blue_tall", (200, 60, 30), 30, 70, values="(0.6, 0.6, 2.2)")
    past_run(runs, "r3_red_wide_failed", (30, 30, 200), 62, 40, status="failed", score=None)
    return runs


def test_a_new_task_is_matched_to_the_past_run_that_looks_alike_and_failures_are_indexed_but_not_recalled(runs, tmp_path):
    store = RecallStore(runs / ".memory", runs)
    ref = block_png(tmp_path / "new" / "front.png", (40, 40, 210), 56, 42)
    hit = store.lookup("block A red block", {"front": ref})
    assert hit is not None and hit.entry.run_id == "r1_red_wide", hit
    assert hit.visual > 0.85 and hit.text == 1.0 and hit.views == ["front"]
    assert "references look alike in front" in hit.why()
    outcomes = {e.run_id: e.outcome for e in store.entries()}
    assert outcomes == {"r1_red_wide": "completed", "r2_blue_tall": "completed", "r3_red_wide_failed": "failed"}
    blue = store.lookup("block A red block", {"front": block_png(tmp_path / "b" / "front.png", (210, 70, 40), 28, 72)})
    assert blue is not None and blue.entry.run_id == "r2_blue_tall", "colour and shape decide, not the words"


def test_nothing_alike_is_nothing_recalled(runs, tmp_path):
    store = RecallStore(runs / ".memory", runs)
    odd = tmp_path / "odd.png"
    cv2.imwrite(str(odd), np.random.default_rng(0).integers(0, 255, (128, 128, 3), dtype=np.uint8))
    assert store.lookup("teapot A porcelain teapot with a spout", {"front": odd}) is None


@pytest.mark.parametrize("damage", ["{not json", '{"version": 1, "entries": [{"run_id": 3}]}', ""])
def test_a_corrupt_index_is_rebuilt_from_the_run_folders(runs, tmp_path, damage):
    store = RecallStore(runs / ".memory", runs)
    assert len(store.entries()) == 3
    (runs / ".memory" / INDEX_FILE).write_text(damage)
    fresh = RecallStore(runs / ".memory", runs)
    assert {e.run_id for e in fresh.entries()} == {"r1_red_wide", "r2_blue_tall", "r3_red_wide_failed"}
    assert json.loads((runs / ".memory" / INDEX_FILE).read_text())["version"] == 1, "and written back"


def test_a_run_folder_that_cannot_be_read_is_left_out_of_the_rebuild(runs):
    (runs / "r2_blue_tall" / "run.json").write_text("{broken")
    assert {e.run_id for e in RecallStore(runs / ".memory", runs).entries()} == {"r1_red_wide", "r3_red_wide_failed"}


def test_the_parametric_warm_start_takes_the_past_values_of_parameters_with_the_same_name_and_shape(runs, tmp_path):
    folder = tmp_path / "task"
    block_png(folder / "ref" / "front.png", (40, 40, 210), 56, 42)
    (folder / "start.py").write_text(START.replace("offset_x = 0.0  # param -1.5..1.5", "offset = 0.0  # param -1.5..1.5"))
    (folder / "task.toml").write_text('name = "block"\ndescription = "A red block"\n[start]\nprogram = "start.py"\n'
                                      '[reference]\nfront = "ref/front.png"\n')
    task = load_task(folder / "task.toml")
    store = RecallStore(runs / ".memory", runs)
    warm, recalled = warm_start(store, task, RunConfig(builder="parametric"))
    assert recalled is not None and recalled["run_id"] == "r1_red_wide" and recalled["similarity"] >= 0.6
    assert recalled["used"] == ["start parameters: color, size"], "offset_x is not offset: names must match"
    assert "size = (1.6, 0.8, 1.2)  # param" in warm.start_code and "offset = 0.0" in warm.start_code
    assert warm_start(store, task, RunConfig(builder="parametric", recall=False)) == (task, None)

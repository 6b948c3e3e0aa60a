"""A task whose `start.baseline` is a .blend next to its task file: validated, run, resumed, never auto-run.

The .blend is written by a real bpy subprocess: an object (`Heirloom`) that exists nowhere else,
and a text block registered to run on load, which would write a marker file if Blender ran it.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.services import GatewayServices
from orchestrator.errors import TaskError
from orchestrator.service import RunService
from orchestrator.task import inline_task, load_task
from tests.orchestrator.conftest import PNG, running_services

REFERENCE = Path(__file__).parent / "data" / "cube" / "ref" / "front.png"

MAKE_BLEND = """
import os, sys, bpy
zstd, plain, marker = sys.argv[1:4]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0.0, 0.0, 0.5))
bpy.context.active_object.name = "Heirloom"
text = bpy.data.texts.new("autorun.py")
text.write(f"open({marker!r}, 'w').write('ran')\\n")
text.use_module = True  # Blender runs a registered text block on load when scripts may run
bpy.ops.wm.save_as_mainfile(filepath=zstd, copy=True)  # what bpy writes by default
bpy.ops.wm.save_as_mainfile(filepath=plain, copy=True, compress=False)
bpy.ops.wm.open_mainfile(filepath=zstd, use_scripts=True)
assert os.path.exists(marker), "the fixture's text block did not run even with scripts allowed"
os.remove(marker)
"""

# the program only moves an object that exists in the baseline alone: on any other scene it fails
START = 'import bpy\nx = 0.3  # param -1.0..1.0\nbpy.data.objects["Heirloom"].location.x = x\n'

TASK = """name = "heirloom"
description = "Move the heirloom cube a little to the left."
[start]
program = "start.py"
baseline = "{baseline}"
[reference]
front = "ref/front.png"
[render]
views = ["front"]
resolution = 32
[budget]
attempts = 1
iterations = 3
threshold = 1.0
"""


@pytest.fixture(scope="module")
def blends(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("blends")
    paths = {"zstd": folder / "zstd.blend", "plain": folder / "plain.blend", "marker": folder / "autorun-ran"}
    subprocess.run([sys.executable, "-c", MAKE_BLEND, str(paths["zstd"]), str(paths["plain"]), str(paths["marker"])],
                   check=True, capture_output=True, timeout=60)
    return paths


def task_folder(root: Path, blend: Path | bytes, baseline: str = "scene/base.blend") -> Path:
    (root / "scene").mkdir(parents=True, exist_ok=True)
    (root / "ref").mkdir(exist_ok=True)
    shutil.copyfile(REFERENCE, root / "ref" / "front.png")
    (root / "start.py").write_text(START)
    (root / "scene" / "base.blend").write_bytes(blend if isinstance(blend, bytes) else blend.read_bytes())
    (root / "task.toml").write_text(TASK.format(baseline=baseline))
    return root / "task.toml"


@pytest.mark.parametrize("kind", ["zstd", "plain", "gzip"])
def test_a_blend_baseline_is_resolved_inside_the_task_folder_however_blender_compressed_it(blends, tmp_path, kind):
    data = blends["plain"].read_bytes()
    blob = gzip.compress(data) if kind == "gzip" else blends[kind].read_bytes()
    task = load_task(task_folder(tmp_path, blob))
    assert task.baseline_file == (tmp_path / "scene" / "base.blend").resolve()
    assert task.start.baseline == "scene/base.blend"


@pytest.mark.parametrize("baseline, content, message", [
    ("../outside.blend", None, "escapes the task folder"),
    ("/tmp/base.blend", None, "must be a path relative to the task file"),
    ("scene/missing.blend", None, "file not found"),
    ("scene/base.blend", PNG, "is not a .blend file"),
    ("scene/base.blend", gzip.compress(b"not a blend at all"), "is not a .blend file"),
    ("scene/base.txt", None, "neither a baseline id"),
])
def test_a_bad_blend_baseline_is_refused_naming_the_field_and_the_file(blends, tmp_path, baseline, content, message):
    (tmp_path.parent / "outside.blend").write_bytes(blends["plain"].read_bytes())
    path = task_folder(tmp_path, content if content is not None else blends["zstd"], baseline)
    with pytest.raises(TaskError) as err:
        load_task(path)
    assert str(path) in str(err.value) and "start.baseline" in str(err.value) and message in str(err.value)


def test_an_inline_task_takes_baseline_ids_only(tmp_path):
    assert inline_task("a cube", None, tmp_path, start={"baseline": "my_scene"}).start.baseline == "my_scene"
    with pytest.raises(TaskError, match="inline task: start.baseline: a .blend path needs a task file"):
        inline_task("a cube", None, tmp_path, start={"baseline": "scene/base.blend"})


@pytest.fixture(scope="module")
async def services(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GatewayServices]:
    async with running_services(tmp_path_factory.mktemp("blend-runs"), workers=1) as services:
        yield services


def executions(run_dir: Path) -> list[bool]:
    paths = sorted(run_dir.glob("attempts/attempt-000/iterations/*/execution.json"))
    return [json.loads(p.read_text())["runs"][-1]["report"]["success"] for p in paths]


async def test_a_run_starts_from_the_tasks_blend_and_resumes_without_the_task_folder(
        services: GatewayServices, blends, tmp_path):
    runs = RunService(services.provider, services.vision, services.config.runs_dir)
    original = blends["zstd"].read_bytes()
    run_id = await runs.start(task_folder(tmp_path / "task", original), builder="parametric", verifier="metrics")
    status = await runs.get(run_id, wait_s=30)
    while status.active and (not status.attempts or status.attempts[0].iterations < 1):
        status = await runs.get(run_id, wait_s=30)
    assert status.active, status  # still running after its first iteration
    await runs.cancel(run_id)
    run_dir = Path(status.run_dir)
    assert (run_dir / "baseline.blend").read_bytes() == original
    assert 'baseline = "baseline.blend"' in (run_dir / "task.toml").read_text()
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["baseline"] == "scene/base.blend" and meta["baseline_id"].startswith("task-")
    imported = services.pool.baselines_dir / f"{meta['baseline_id']}.blend"
    assert imported.read_bytes() == original

    # resume needs neither the task folder nor the pool's copy: the run folder holds the .blend
    shutil.rmtree(tmp_path / "task")
    imported.unlink()
    await runs.resume(run_id)
    status = await runs.wait(run_id)
    assert status.status == "completed" and status.attempts[0].iterations == 3, status
    assert executions(run_dir) == [True, True, True]  # Heirloom was there to move in every iteration
    assert imported.read_bytes() == original
    assert not blends["marker"].exists(), "loading the baseline ran the text block embedded in the .blend"

"""`colossus render`: a program runs in a fresh worker and its camera pack lands in --out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2

from harness.launcher import PROJECT_ROOT


def colossus(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, timeout=180, cwd=PROJECT_ROOT)


def test_render_writes_one_png_per_view_and_the_execution_report(tmp_path: Path) -> None:
    out = tmp_path / "hello"
    done = colossus("render", "examples/hello.py", "--out", str(out), "--views", "front", "iso", "--resolution", "64")
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in out.glob("*.png")) == ["front.png", "iso.png"]
    assert cv2.imread(str(out / "iso.png")).shape == (64, 64, 3)
    report = json.loads((out / "execution.json").read_text())
    assert report["success"] is True and "Suzanne" in report["scene_delta"]["added"]
    assert json.loads(done.stdout.strip().splitlines()[-1])["views"] == ["front", "iso"]


def test_failing_program_exits_non_zero_with_the_error_and_renders_nothing(tmp_path: Path) -> None:
    program = tmp_path / "broken.py"
    program.write_text("import bpy\nbpy.ops.mesh.primitive_cube_add()\nbpy.ops.mesh.subdivide()\n")
    out = tmp_path / "out"
    done = colossus("render", str(program), "--out", str(out))
    assert done.returncode == 1
    assert "BLENDER_CONTEXT at line 3" in done.stderr
    assert json.loads((out / "execution.json").read_text())["error_class"] == "BLENDER_CONTEXT"
    assert not list(out.glob("*.png"))


def test_missing_program_is_a_usage_error(tmp_path: Path) -> None:
    done = colossus("render", str(tmp_path / "nope.py"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "no such program" in done.stderr


def test_missing_blender_binary_is_named_in_the_error(tmp_path: Path) -> None:
    done = colossus("render", "examples/hello.py", "--out", str(tmp_path / "out"), "--blender", str(tmp_path / "blender"))
    assert done.returncode == 2
    assert f"{tmp_path / 'blender'} does not exist or is not executable" in done.stderr


def test_task_settings_reproduce_the_committed_reference_renders(tmp_path: Path) -> None:
    task = PROJECT_ROOT / "examples" / "tasks" / "red_block"
    done = colossus("render", str(task / "truth.py"), "--task", str(task / "task.toml"), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["views"] == ["front", "side", "top", "iso"]
    for view in ("front", "side", "top", "iso"):
        rendered, reference = cv2.imread(str(tmp_path / f"{view}.png")), cv2.imread(str(task / "ref" / f"{view}.png"))
        assert rendered.shape == reference.shape == (128, 128, 3)
        assert cv2.absdiff(rendered, reference).max() <= 2, f"{view} differs from the committed reference"


def test_explicit_flags_override_the_task(tmp_path: Path) -> None:
    task = PROJECT_ROOT / "examples" / "tasks" / "red_block"
    done = colossus("render", str(task / "truth.py"), "--task", str(task / "task.toml"), "--views", "top", "--resolution", "48", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert [p.name for p in tmp_path.glob("*.png")] == ["top.png"]
    assert cv2.imread(str(tmp_path / "top.png")).shape == (48, 48, 3)

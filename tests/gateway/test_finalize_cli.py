"""`colossus finalize` as a user runs it: a real subprocess, real workers, real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.assets import gltf_check
from tests.assets.gltf_check import gltf_errors
from tests.assets.sources import write_sources

COLOSSUS = [sys.executable, "-m", "gateway.cli", "finalize"]


def colossus(*args: str | Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COLOSSUS, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          cwd=Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_sources(tmp_path_factory.mktemp("sources"))


def run_folder(root: Path, scene: Path) -> Path:
    """A run folder as the coordinator leaves it, as far as finalize reads it."""
    run = root / "20260101T000000Z_bumpy_ball"
    attempt = run / "attempts" / "attempt-001"
    attempt.mkdir(parents=True)
    shutil.copyfile(scene, attempt / "final_scene.blend")
    (run / "run.json").write_text(json.dumps({"task": {"name": "bumpy ball"}, "status": "done"}))
    (run / "best_attempt.json").write_text(json.dumps({"attempt": 1, "final_scene": "attempts/attempt-001/final_scene.blend"}))
    return run


def test_a_run_folder_through_the_shipped_web_profile_gives_valid_gltf_per_lod(sources, tmp_path):
    run = run_folder(tmp_path, sources["blend"])
    done = colossus(run, "--profile", "gltf-web", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) >= {"outputs", "lods", "valid"} and result["valid"] is True
    out = run / "asset" / "gltf-web"
    assert [lod["name"] for lod in result["lods"]] == [f"bumpy_ball_LOD{i}" for i in range(4)]
    glbs = sorted(out.glob("*.glb"))
    assert [p.stem for p in glbs] == [lod["name"] for lod in result["lods"]]
    assert {str(p) for p in glbs} <= set(result["outputs"])
    for path in glbs:
        assert gltf_errors(path) == [], path.name
    assert "[6/12] bake_normals" in done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["{src}", "--profile", "unity5", "--out", "{out}"], "unknown profile 'unity5'"),
    (["{tmp}/missing.obj", "--profile", "unity", "--out", "{out}"], "no such file or folder"),
    (["{tmp}/notes.txt", "--profile", "unity", "--out", "{out}"], "notes.txt: unsupported format"),
    (["{tmp}/empty.stl", "--profile", "unity", "--out", "{out}"], "empty.stl is empty"),
    (["{tmp}", "--profile", "unity", "--out", "{out}"], "not a run folder"),
    (["{src}", "--profile", "unity"], "--out is required"),
    (["{src}", "--profile", "unity", "--out", "{tmp}/notes.txt"], "exists and is not a folder"),
])
def test_bad_arguments_exit_2_before_any_worker_starts(args, message, sources, tmp_path):
    (tmp_path / "notes.txt").write_text("not a mesh")
    (tmp_path / "empty.stl").write_bytes(b"")
    filled = [a.format(src=sources["obj"], tmp=tmp_path, out=tmp_path / "out") for a in args]
    done = colossus(*filled, timeout=30)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_a_corrupt_file_exits_1_with_the_reason_and_leaves_nothing(tmp_path):
    (tmp_path / "broken.fbx").write_bytes(b"Kaydara FBX Binary  \x00\x1a\x00" + b"\xff" * 40)
    done = colossus(tmp_path / "broken.fbx", "--profile", "unreal", "--out", tmp_path / "out", "--json")
    assert done.returncode == 1
    assert "stage import failed: [ASSET_SOURCE] broken.fbx could not be read" in done.stderr, done.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.fbx"]


def test_the_gltf_check_reports_errors_in_a_broken_file(sources, tmp_path):
    data = bytearray(sources["glb"].read_bytes())
    data[20:28] = b'{"bad":['  # break the JSON chunk
    (tmp_path / "broken.glb").write_bytes(bytes(data))
    assert gltf_errors(tmp_path / "broken.glb")


def test_without_node_the_gltf_check_reads_files_with_pygltflib(sources, monkeypatch, tmp_path):
    monkeypatch.setattr(gltf_check, "validator_available", lambda: False)
    assert gltf_check.gltf_errors(sources["glb"]) == []
    data = bytearray(sources["glb"].read_bytes())
    data[20:28] = b'{"bad":['  # a broken JSON chunk is reported, not raised
    (tmp_path / "broken.glb").write_bytes(bytes(data))
    assert "pygltflib could not read broken.glb" in gltf_check.gltf_errors(tmp_path / "broken.glb")[0]

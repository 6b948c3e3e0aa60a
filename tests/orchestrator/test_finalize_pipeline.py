"""The finalize pipeline on real Blender workers (stdio), real files from every import format,
through every shipped profile (textures shrunk to 128² so the bakes stay fast)."""

from __future__ import annotations

import json
import struct
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastmcp import Client

from gateway.workers.asset_adapters import ClientWorker
from harness.launcher import WorkerLaunch
from orchestrator.assets.pipeline import FinalizeResult, finalize
from orchestrator.assets.profiles import Profile, load_profile
from orchestrator.errors import AssetError
from tests.assets.gltf_check import gltf_errors
from tests.assets.sources import write_million_triangle_stl, write_sources

# every format, and between them every shipped profile (FBX and glTF outputs both read back)
FORMAT_PROFILE = {"obj": "unity", "fbx": "unreal", "glb": "godot", "gltf": "gltf-web", "stl": "mobile",
                  "ply": "godot", "blend": "unity"}


def small(name: str, size: int = 128) -> Profile:
    """A shipped profile as it is, except for the texture size."""
    profile = load_profile(name)
    return profile.model_copy(update={"textures": profile.textures.model_copy(update={"size": size})})


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_sources(tmp_path_factory.mktemp("sources"))


@pytest.fixture(scope="module")
async def workers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[ClientWorker, ClientWorker]]:
    """Two real stdio workers: one runs the stages, the other re-imports the exports."""
    root = tmp_path_factory.mktemp("workers")
    clients = [Client(WorkerLaunch(workdir=root / role).stdio_transport(log_file=root / f"{role}.log"),
                      init_timeout=90, timeout=None) for role in ("stages", "check")]
    async with clients[0], clients[1]:
        yield ClientWorker(clients[0]), ClientWorker(clients[1])


def glb_facts(path: Path) -> tuple[list[int], list[np.ndarray]]:
    """Triangles per mesh and the TEXCOORD_0 values of every primitive, read from the GLB's own chunks."""
    data = path.read_bytes()
    json_length, kind = struct.unpack_from("<I4s", data, 12)
    assert kind == b"JSON"
    doc = json.loads(data[20:20 + json_length])
    bin_start = 20 + json_length + 8
    accessors, views = doc["accessors"], doc["bufferViews"]
    triangles, uvs = [], []
    for mesh in doc["meshes"]:
        triangles.append(sum(accessors[p["indices"]]["count"] // 3 for p in mesh["primitives"]))
        for p in mesh["primitives"]:
            uv = accessors[p["attributes"]["TEXCOORD_0"]]
            view = views[uv["bufferView"]]
            assert uv["componentType"] == 5126 and uv["type"] == "VEC2" and view.get("byteStride", 8) == 8
            start = bin_start + view.get("byteOffset", 0) + uv.get("byteOffset", 0)
            uvs.append(np.frombuffer(data, dtype="<f4", count=uv["count"] * 2, offset=start).reshape(-1, 2))
    return triangles, uvs


def fbx_units(path: Path) -> tuple[float, float, list[float]]:
    """(UnitScaleFactor, x extent of the first vertex array, every Lcl Scaling x) read from a binary FBX's bytes."""
    data = path.read_bytes()

    def double_after(at: int) -> float:
        return struct.unpack_from("<d", data, data.find(b"D", at) + 1)[0]

    unit = double_after(data.find(b"UnitScaleFactor") + 15)
    start = data.find(b"\x08Vertices") + 9
    assert data[start:start + 1] == b"d"
    _count, encoding, length = struct.unpack_from("<III", data, start + 1)
    raw = data[start + 13:start + 13 + length]
    xs = np.frombuffer(zlib.decompress(raw) if encoding == 1 else raw, dtype="<f8")[0::3]
    scales, at = [], 0
    while (at := data.find(b"Lcl Scaling", at + 1)) >= 0:
        scales.append(round(double_after(at + 11), 6))
    return unit, float(xs.max() - xs.min()), scales


def failed(result_dir: Path) -> list[str]:
    verdict = json.loads((result_dir / "validation.json").read_text())
    return [f"{c['name']}: {c['detail']}" for c in verdict["checks"] if c["required"] and not c["passed"]]


@pytest.fixture(scope="module")
def finalized(sources, workers, tmp_path_factory):
    """finalize(bumpy.<fmt>) through its profile, once per module: (result, output folder)."""
    done: dict[str, tuple[FinalizeResult, Path]] = {}

    async def get(fmt: str) -> tuple[FinalizeResult, Path]:
        if fmt not in done:
            out = tmp_path_factory.mktemp(fmt) / "asset"
            done[fmt] = (await finalize(sources[fmt], small(FORMAT_PROFILE[fmt]), out, *workers), out)
        return done[fmt]

    return get


@pytest.mark.parametrize("fmt", list(FORMAT_PROFILE))
async def test_each_format_finalizes_through_a_profile_into_a_valid_asset(fmt, finalized):
    profile = small(FORMAT_PROFILE[fmt])
    result, out = await finalized(fmt)

    assert result.valid, failed(out)
    counts = [lod.triangles for lod in result.lods]
    assert len(counts) == len(profile.lods.triangles)
    assert all(b < a for a, b in zip(counts, counts[1:])), counts
    assert all(n <= budget for n, budget in zip(counts, profile.lods.triangles)), counts
    assert [lod.name for lod in result.lods] == [profile.lod_name("bumpy", i) for i in range(len(counts))]
    assert {Path(p) for p in result.outputs} == {p for p in out.rglob("*") if p.is_file()}
    assert Path(result.outputs[-1]).name == "validation.json"
    assert sorted(p.name for p in out.parent.iterdir()) == ["asset"]  # no staging folder left behind
    verdict = json.loads((out / "validation.json").read_text())
    round_trips = [c for c in verdict["checks"] if c["name"].startswith("round_trip")]
    assert len(round_trips) == len(counts) and all(c["passed"] for c in round_trips)
    assert {p.stem for p in (out / "renders").glob("*.png")} == {lod.name for lod in result.lods}

    exports = [Path(p) for p in result.outputs if Path(p).suffix in (".glb", ".fbx")]
    assert exports and all(p.suffix == f".{profile.export.format}" for p in exports)
    if profile.export.format == "fbx":
        assert all(p.read_bytes().startswith(b"Kaydara FBX Binary") for p in exports)
        # the source is a ~1 m ball: unity writes metres (UnitScaleFactor 100, vertices ~1),
        # unreal centimetres (UnitScaleFactor 1, vertices ~100), both at node scale 1
        unit_scale, extent, node_scales = fbx_units(exports[0])
        per_unit = {"unity": (100.0, 1.0), "unreal": (1.0, 100.0)}[profile.name]
        assert unit_scale == per_unit[0] and 0.9 < extent / per_unit[1] < 1.25, (unit_scale, extent)
        assert set(node_scales) == {1.0}, node_scales
        return
    read_back: list[int] = []
    for path in exports:
        assert gltf_errors(path) == []
        triangles, uvs = glb_facts(path)
        read_back += triangles
        assert all(uv.size and uv.min() >= 0 and uv.max() <= 1 for uv in uvs), [(uv.min(), uv.max()) for uv in uvs]
    assert read_back == counts


def normal_map_spread(out: Path) -> np.ndarray:
    """Per-channel standard deviation of the baked normal map (0..1)."""
    [path] = (out / "textures").glob("*_normal.png")
    pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)[:, :, ::-1].astype(np.float64) / 255
    return pixels.reshape(-1, 3).std(axis=0)


async def test_the_normal_bake_carries_the_high_mesh_detail_and_a_plain_cube_stays_flat(sources, workers, finalized,
                                                                                       tmp_path):
    _, bumpy_out = await finalized("stl")  # mobile: LOD0 is a fraction of the source's triangles
    await finalize(sources["plain_cube"], small("mobile"), tmp_path / "cube", *workers)

    bumpy, cube = normal_map_spread(bumpy_out), normal_map_spread(tmp_path / "cube")
    assert bumpy[:2].min() > 0.03, bumpy  # tangent-space x and y vary with the bumps
    assert cube[:2].max() < 0.01, cube    # same surface high and low: nothing to bake


async def test_the_pbr_bake_keeps_procedural_colour_and_metallic_parts(finalized):
    _, out = await finalized("blend")  # unity: base colour, roughness, metallic and normal
    textures = out / "textures"
    colour = cv2.imread(str(next(textures.glob("*_base_color.png"))), cv2.IMREAD_COLOR).astype(np.float64)
    metallic = cv2.imread(str(next(textures.glob("*_metallic.png"))), cv2.IMREAD_GRAYSCALE).astype(np.float64) / 255
    assert colour.reshape(-1, 3).std(axis=0).max() > 5  # noise texture, not one flat colour
    assert np.percentile(metallic, 99) > 0.8 and np.percentile(metallic, 1) < 0.1  # steel top, paint bottom


def corrupt(folder: Path) -> dict[str, Path]:
    """One damaged file per format: garbage with the right suffix, or a truncated real header."""
    folder.mkdir()
    files = {
        "obj": b"v 1 2\nf 1 2 9\nnot obj at all\n",
        "fbx": b"Kaydara FBX Binary  \x00\x1a\x00" + b"\xff" * 40,
        "glb": b"glTF\x02\x00\x00\x00" + b"\x00" * 12,
        "gltf": b'{"asset": {"version": "2.0"}, "meshes": [{"primitives": [{"attributes": {"POSITION": 7}}]}]}',
        "stl": b"\x00" * 84,
        "ply": b"ply\nformat ascii 1.0\nelement vertex 3\n",
        "blend": b"BLENDER-v405" + b"\x00" * 30,
    }
    for fmt, data in files.items():
        (folder / f"broken.{fmt}").write_bytes(data)
    return {fmt: folder / f"broken.{fmt}" for fmt in files}


async def test_corrupt_empty_and_meshless_sources_fail_clearly_and_write_nothing(sources, workers, tmp_path):
    bad = corrupt(tmp_path / "bad") | {"no_mesh": sources["camera_only"]}
    (tmp_path / "bad" / "empty.ply").write_bytes(b"")
    bad["empty"] = tmp_path / "bad" / "empty.ply"
    outs = tmp_path / "outs"
    outs.mkdir()
    for what, path in bad.items():
        with pytest.raises(AssetError, match=r"stage import failed: \[ASSET_SOURCE\]") as caught:
            await finalize(path, small("godot"), outs / what, *workers)
        message = str(caught.value)
        expected = {"no_mesh": "has no mesh with faces", "empty": "is empty"}.get(what, path.name)
        assert expected in message, message
    assert list(outs.iterdir()) == []


async def test_a_million_triangle_mesh_finalizes_within_bounded_time(workers, tmp_path):
    source = tmp_path / "sheet.stl"
    assert write_million_triangle_stl(source) > 1_000_000
    started = time.monotonic()
    result: FinalizeResult = await finalize(source, small("unity", 64), tmp_path / "out", *workers)
    elapsed = time.monotonic() - started
    assert elapsed < 150, result.stage_s
    assert result.valid, failed(tmp_path / "out")
    assert result.lods[0].triangles <= 20000


async def test_a_source_over_the_profile_limit_is_refused_before_any_stage_runs(workers, tmp_path):
    source = tmp_path / "sheet.stl"
    write_million_triangle_stl(source, per_side=300)  # 180,000 triangles
    strict = small("mobile").model_copy(update={"max_source_triangles": 100_000})
    with pytest.raises(AssetError, match=r"180000 triangles; profile 'mobile' accepts at most 100000"):
        await finalize(source, strict, tmp_path / "out", *workers)
    assert not (tmp_path / "out").exists()


async def test_the_lod_renders_show_the_baked_colour_and_only_the_named_objects(workers, tmp_path):
    """A person checks an asset by its LOD renders: a red block (its ground plane left out) must look red."""
    scene = tmp_path / "scene.blend"
    await workers[0].call("execute_code", {"code": f"""
import bpy
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0, 0, 0.5))
block = bpy.context.active_object
block.name = "Block"
paint = bpy.data.materials.new("paint")
paint.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.8, 0.1, 0.08, 1.0)
block.data.materials.append(paint)
bpy.ops.mesh.primitive_plane_add(size=8.0)
bpy.context.active_object.name = "Ground"
bpy.ops.wm.save_as_mainfile(filepath={str(scene)!r}, copy=True)
"""}, 60)
    out = tmp_path / "asset"
    result = await finalize(scene, small("godot"), out, *workers, name="block", objects=["Block"])
    assert result.lods[0].triangles == 12  # the block alone
    image = cv2.imread(str(out / "renders" / f"{result.lods[0].name}.png"))[:, :, ::-1].astype(int)
    subject = image[image.max(axis=2) > 30]
    red, green, blue = subject.mean(axis=0)
    assert red > 2 * green and red > 2 * blue, (red, green, blue)

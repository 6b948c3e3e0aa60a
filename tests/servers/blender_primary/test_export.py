"""export_scene on a real Blender worker: every format lands as a real file in the output folder,
and nothing a client names can make it write anywhere else."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from harness.launcher import WorkerLaunch
from servers.blender_primary.state import WorkerState

MAGIC = {"glb": b"glTF", "fbx": b"Kaydara FBX Binary", "obj": b"# Blender", "blend": b"BLENDER"}


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fmt", ["glb", "fbx", "obj", "blend"])
async def test_each_format_writes_a_non_empty_file_in_the_output_dir(
    fmt: str, client: Client, bpy_eval, worker_dirs: WorkerState
):
    await bpy_eval("bpy.ops.mesh.primitive_monkey_add()")
    result = (await client.call_tool("export_scene", {"format": fmt, "name": "suzanne"})).structured_content
    path = Path(result["path"])
    assert path == worker_dirs.output_dir / f"suzanne.{fmt}"
    assert path.stat().st_size == result["size_bytes"] > 1000
    assert path.read_bytes().startswith(MAGIC[fmt])
    if fmt == "obj":
        assert result["companions"] == [str(worker_dirs.output_dir / "suzanne.mtl")]


async def test_obj_export_contains_the_scene_geometry(client: Client, bpy_eval, worker_dirs: WorkerState):
    await bpy_eval("bpy.ops.mesh.primitive_cube_add()")
    path = Path((await client.call_tool("export_scene", {"format": "OBJ", "name": "cube"})).structured_content["path"])
    lines = path.read_text().splitlines()
    assert sum(line.startswith("v ") for line in lines) == 8
    assert sum(line.startswith("f ") for line in lines) == 6


@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "sub/dir", "..", "a" * 65, ""])
async def test_hostile_names_are_refused_and_nothing_is_written(
    name: str, client: Client, bpy_eval, worker_dirs: WorkerState, tmp_path: Path
):
    await bpy_eval("bpy.ops.mesh.primitive_cube_add()")
    before = files_under(tmp_path)
    with pytest.raises(ToolError, match=r"^\[BAD_ID\]"):
        await client.call_tool("export_scene", {"format": "glb", "name": name})
    assert files_under(tmp_path) == before
    assert not Path("/tmp/abs.glb").exists()


async def test_a_symlink_pointing_out_of_the_output_dir_is_not_followed(
    client: Client, bpy_eval, worker_dirs: WorkerState, tmp_path: Path
):
    outside = tmp_path / "outside.glb"
    (worker_dirs.output_dir / "trap.glb").symlink_to(outside)
    with pytest.raises(ToolError, match=r"^\[BAD_PATH\]"):
        await client.call_tool("export_scene", {"format": "glb", "name": "trap"})
    assert not outside.exists()


async def test_unknown_format_is_refused_naming_the_formats(client: Client, worker_dirs: WorkerState):
    with pytest.raises(ToolError, match=r"^\[BAD_FORMAT\] format 'stl' .*glb, fbx, obj, blend"):
        await client.call_tool("export_scene", {"format": "stl", "name": "x"})
    assert files_under(worker_dirs.output_dir) == set()


async def test_scene_tools_work_over_stdio_with_exporter_chatter_kept_off_the_wire(tmp_path: Path):
    launch = WorkerLaunch(workdir=tmp_path / "work", output_dir=tmp_path / "out")
    async with Client(launch.stdio_transport()) as client:
        await client.call_tool("execute_code", {"code": "bpy.ops.mesh.primitive_cube_add(location=(0, 0, 5))"})
        floored = await client.call_tool("transform_to_floor", {})
        assert floored.structured_content["changed"][0]["bounds_after"]["min"][2] == pytest.approx(0.0, abs=1e-5)
        await client.call_tool("gn_create_modifier", {"object_name": "Cube", "group_name": "Tree"})
        await client.call_tool("gn_add_node", {"group": "Tree", "node_type": "GeometryNodeMeshGrid", "name": "Grid"})
        with pytest.raises(ToolError, match=r"^\[GN_UNKNOWN_SOCKET\]"):
            await client.call_tool(
                "gn_link",
                {
                    "group": "Tree",
                    "from_node": "Grid",
                    "from_socket": "Nope",
                    "to_node": "Group Output",
                    "to_socket": 0,
                },
            )
        result = await client.call_tool(
            "export_scene", {"format": "fbx", "name": "over_stdio"}
        )  # the fbx exporter print()s
        assert Path(result.structured_content["path"]) == tmp_path / "out" / "over_stdio.fbx"
        assert (tmp_path / "out" / "over_stdio.fbx").stat().st_size > 1000

"""Baselines: saved states restored exactly by loading the .blend; ids and output names are plain tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from servers.blender_primary.state import WorkerState

SNAPSHOT = """
facts = {}
for o in bpy.data.objects:
    facts[o.name] = {
        "matrix": [round(v, 6) for row in o.matrix_world for v in row],
        "materials": [s.material.name if s.material else None for s in o.material_slots],
        "verts": len(o.data.vertices) if o.type == "MESH" else None,
    }
facts["_materials"] = {m.name: list(m.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value) for m in bpy.data.materials}
print(json.dumps(facts))
"""

BUILD = """
bpy.ops.mesh.primitive_cube_add(location=(1, 2, 3), rotation=(0.1, 0.2, 0.3), scale=(1, 2, 0.5))
mat = bpy.data.materials.new("Glaze")
mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.8, 0.1, 0.2, 1.0)
bpy.context.object.data.materials.append(mat)
bpy.ops.mesh.primitive_monkey_add(location=(-2, 0, 0))
"""


async def test_reset_restores_objects_transforms_and_materials_exactly(client: Client, bpy_eval) -> None:
    await bpy_eval(BUILD)
    saved = await bpy_eval(SNAPSHOT)
    await client.call_tool("save_baseline", {"name": "two-things"})
    await bpy_eval(
        "cube = bpy.data.objects['Cube']\ncube.location = (9, 9, 9)\ncube.rotation_euler.x = 2\n"
        "bpy.data.materials['Glaze'].node_tree.nodes['Principled BSDF'].inputs['Base Color'].default_value = (0, 1, 0, 1)\n"
        "bpy.data.objects.remove(bpy.data.objects['Suzanne'])\nbpy.ops.mesh.primitive_cylinder_add()\n"
    )
    assert await bpy_eval(SNAPSHOT) != saved
    result = (await client.call_tool("reset_to_baseline", {"baseline_id": "two-things"})).structured_content
    assert result["baseline_id"] == "two-things"
    assert await bpy_eval(SNAPSHOT) == saved


async def test_empty_baseline_is_built_in_and_clears_the_scene(client: Client, bpy_eval) -> None:
    await bpy_eval("bpy.ops.mesh.primitive_cube_add()")
    assert "empty" in (await client.call_tool("list_baselines", {})).data
    await client.call_tool("reset_to_baseline", {"baseline_id": "empty"})
    assert await bpy_eval("print(len(bpy.data.objects))") == 0
    with pytest.raises(ToolError, match=r"^\[BASELINE_ERROR\].*built in"):
        await client.call_tool("save_baseline", {"name": "empty"})


async def test_saved_baselines_are_listed_and_shared_through_the_folder(client: Client, worker_dirs: WorkerState) -> None:
    await client.call_tool("save_baseline", {"name": "a_1"})
    assert (await client.call_tool("list_baselines", {})).data == ["a_1", "empty"]
    assert (worker_dirs.baselines_dir / "a_1.blend").is_file()
    assert not [p for p in worker_dirs.baselines_dir.iterdir() if ".tmp" in p.name]


@pytest.mark.parametrize("bad", ["../escape", "/etc/passwd", "a/b", "", "x" * 65, "name.blend", "sp ace"])
async def test_bad_baseline_ids_are_refused(client: Client, worker_dirs: WorkerState, bad: str) -> None:
    for tool, key in (("save_baseline", "name"), ("reset_to_baseline", "baseline_id")):
        with pytest.raises(ToolError, match=r"^\[BAD_ID\]"):
            await client.call_tool(tool, {key: bad})
    assert not (worker_dirs.baselines_dir.parent / "escape.blend").exists()


async def test_unknown_baseline_names_the_saved_ones(client: Client) -> None:
    await client.call_tool("save_baseline", {"name": "kept"})
    with pytest.raises(ToolError, match=r"^\[UNKNOWN_BASELINE\] no baseline 'gone'; saved baselines: empty, kept"):
        await client.call_tool("reset_to_baseline", {"baseline_id": "gone"})


async def test_save_blend_writes_inside_the_output_folder_only(client: Client, worker_dirs: WorkerState) -> None:
    saved = (await client.call_tool("save_blend", {"name": "scene-1"})).structured_content
    assert Path(saved["path"]) == worker_dirs.output_dir / "scene-1.blend" and saved["bytes"] > 0
    for bad in ("../scene", str(worker_dirs.workdir / "x")):
        with pytest.raises(ToolError, match=r"^\[BAD_ID\]"):
            await client.call_tool("save_blend", {"name": bad})


async def test_symlink_pointing_out_of_the_output_folder_is_refused(client: Client, worker_dirs: WorkerState, tmp_path: Path) -> None:
    outside = tmp_path / "outside.blend"
    (worker_dirs.output_dir / "trap.blend").symlink_to(outside)
    with pytest.raises(ToolError, match=r"^\[BAD_PATH\]"):
        await client.call_tool("save_blend", {"name": "trap"})
    assert not outside.exists()

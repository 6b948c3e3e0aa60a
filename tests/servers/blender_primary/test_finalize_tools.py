"""The asset_* worker tools one at a time, as a host calls single stages (in-memory client, real bpy)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from servers.blender_primary.state import WorkerState

# a cube whose faces do not share vertices (as STL stores it), moved and scaled, with one face missing
SPLIT_CUBE = """
import bpy, bmesh
bpy.ops.mesh.primitive_cube_add(size=2.0, location=(5, 1, 3))
obj = bpy.context.active_object
obj.name = "cube"
obj.scale = (2, 1, 1)
bm = bmesh.new(); bm.from_mesh(obj.data)
bmesh.ops.split_edges(bm, edges=bm.edges)
bm.faces.ensure_lookup_table()
bmesh.ops.delete(bm, geom=[bm.faces[0]], context="FACES_ONLY")
bm.to_mesh(obj.data); bm.free()
"""


async def call(client: Client, tool: str, **arguments):
    return (await client.call_tool(tool, arguments)).structured_content


async def test_cleanup_welds_fills_triangulates_applies_transforms_and_sets_a_base_centre_origin(client, bpy_eval):
    await bpy_eval(SPLIT_CUBE)
    cleaned = await call(client, "asset_cleanup", object="cube")
    assert cleaned["removed_vertices"] == 24 - 8 + 0  # 5 faces of 4 split corners → 8 shared corners
    assert cleaned["triangles"] == 12 and cleaned["non_manifold_edges"] == 0  # the missing face was filled
    assert cleaned["dimensions"] == pytest.approx([4.0, 2.0, 2.0])
    facts = (await call(client, "asset_inspect", objects=["cube"]))["meshes"][0]
    assert facts["summary"]["scale"] == [1.0, 1.0, 1.0] and facts["summary"]["location"] == [0.0, 0.0, 0.0]
    assert facts["summary"]["bbox_min"] == pytest.approx([-2.0, -1.0, 0.0], abs=1e-6)
    assert facts["ngons"] == 0 and facts["loose_vertices"] == 0


async def test_inspect_counts_ngons_loose_vertices_and_open_edges(client, bpy_eval):
    await bpy_eval("""
import bpy, bmesh
bpy.ops.mesh.primitive_circle_add(vertices=12, fill_type="NGON")
obj = bpy.context.active_object
obj.name = "disc"
bm = bmesh.new(); bm.from_mesh(obj.data)
bm.verts.new((3, 3, 3))
bm.to_mesh(obj.data); bm.free()
""")
    facts = (await call(client, "asset_inspect", objects=["disc"]))["meshes"][0]
    assert (facts["ngons"], facts["loose_vertices"], facts["triangles"]) == (1, 1, 10)
    assert facts["summary"]["mesh"]["non_manifold_edges"] == 12
    assert facts["uv"] is not None or facts["uv_layers"] == 0


async def test_unwrap_gives_uvs_in_the_unit_square_without_overlap_and_stacked_uvs_are_caught(client, bpy_eval):
    await bpy_eval("import bpy\nbpy.ops.mesh.primitive_ico_sphere_add(subdivisions=3)\nbpy.context.active_object.name = 'ball'")
    report = await call(client, "asset_uv", object="ball", margin=0.01)
    assert report["inside_unit_square"] and report["overlap"] < 0.005 and report["coverage"] > 0.2
    await bpy_eval("""
import bpy
uv = bpy.data.objects["ball"].data.uv_layers.active.data
for loop in uv:  # every triangle onto the same corner: a layout a baker cannot use
    loop.uv = (0.1, 0.1)
for poly in bpy.data.objects["ball"].data.polygons:
    for i, li in enumerate(poly.loop_indices):
        uv[li].uv = [(0.1, 0.1), (0.9, 0.1), (0.5, 0.9)][i]
""")
    stacked = (await call(client, "asset_inspect", objects=["ball"]))["meshes"][0]["uv"]
    assert stacked["overlap"] > 0.95


async def test_lightmap_pack_gives_non_overlapping_uvs_too(client, bpy_eval):
    await bpy_eval("import bpy\nbpy.ops.mesh.primitive_torus_add()\nbpy.context.active_object.name = 'ring'")
    report = await call(client, "asset_uv", object="ring", method="lightmap_pack", margin=0.005)
    assert report["inside_unit_square"] and report["overlap"] < 0.005 and report["coverage"] > 0.2


async def test_decimate_copies_within_budget_and_keeps_the_source(client, bpy_eval):
    await bpy_eval("import bpy\nbpy.ops.mesh.primitive_uv_sphere_add(segments=64, ring_count=32)\nbpy.context.active_object.name = 'ball'")
    lod = await call(client, "asset_decimate", source="ball", target="ball_LOD1", max_triangles=500)
    assert 400 < lod["triangles"] <= 500 and lod["object"] == "ball_LOD1"
    facts = (await call(client, "asset_inspect"))["meshes"]
    assert sorted(f["summary"]["name"] for f in facts) == ["ball", "ball_LOD1"]
    assert max(f["triangles"] for f in facts) == 64 * 30 * 2 + 64 * 2


@pytest.mark.parametrize(("tool", "arguments", "tag"), [
    ("asset_decimate", {"source": "ball", "target": "../x", "max_triangles": 10}, "BAD_ID"),
    ("asset_bake", {"high": "ball", "low": "ball", "maps": ["normal"], "job": "../up"}, "BAD_ID"),
    ("asset_bake", {"high": "ball", "low": "ball", "maps": ["normal"], "job": "j", "size": 100}, "BAD_ARGUMENT"),
    ("asset_bake", {"high": "ball", "low": "ball", "maps": ["normal"], "job": "j"}, "BAD_ARGUMENT"),
    ("asset_bake", {"high": "ball", "low": "nope", "maps": ["normal"], "job": "j"}, "UNKNOWN_OBJECT"),
    ("asset_export", {"lods": ["ball"], "format": "glb", "stem": "/tmp/abs", "job": "j"}, "BAD_ID"),
    ("asset_export", {"lods": ["ball"], "format": "glb", "stem": "ok", "job": "j", "group": "a/b"}, "BAD_ID"),
    ("asset_cleanup", {"object": "Camera"}, "UNSUPPORTED_OBJECT"),
    ("asset_import", {"path": "relative.obj"}, "ASSET_SOURCE"),
    ("asset_import", {"path": "/etc/passwd"}, "ASSET_SOURCE"),
])
async def test_bad_arguments_get_tagged_errors_and_write_nothing(tool, arguments, tag, client, bpy_eval,
                                                                worker_dirs: WorkerState):
    await bpy_eval("import bpy\nbpy.ops.mesh.primitive_cube_add()\nbpy.context.active_object.name = 'ball'\n"
                   "bpy.ops.object.camera_add()\nbpy.context.active_object.name = 'Camera'")
    with pytest.raises(ToolError, match=rf"^\[{tag}\]"):
        await client.call_tool(tool, arguments)
    assert [p for p in Path(worker_dirs.output_dir).rglob("*") if p.is_file()] == []


async def test_the_bake_needs_a_uv_layer_and_says_so(client, bpy_eval):
    await bpy_eval("import bpy\nbpy.ops.mesh.primitive_cube_add()\nbpy.context.active_object.name = 'hi'\n"
                   "bpy.ops.mesh.primitive_cube_add()\no = bpy.context.active_object\no.name = 'lo'\n"
                   "o.data.uv_layers.remove(o.data.uv_layers[0])")
    with pytest.raises(ToolError, match=r"\[BAD_ARGUMENT\] 'lo' has no UV layer to bake into; unwrap it first"):
        await client.call_tool("asset_bake", {"high": "hi", "low": "lo", "maps": ["normal"], "job": "j", "size": 64})


async def test_import_keeps_only_the_named_objects_and_names_the_ones_it_has(client, bpy_eval, tmp_path: Path):
    """A run's scene keeps its ground plane; `objects` leaves it out, and a wrong name lists the real ones."""
    source = tmp_path / "scene.blend"
    await bpy_eval(f"""
import bpy
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0, 0, 0.5))
bpy.context.active_object.name = "Block"
bpy.ops.mesh.primitive_plane_add(size=8.0)
bpy.context.active_object.name = "Ground"
bpy.ops.wm.save_as_mainfile(filepath={str(source)!r}, copy=True)
print("null")
""")
    imported = await call(client, "asset_import", path=str(source), objects=["Block"])
    assert imported["objects"] == ["Block"] and imported["triangles"] == 12 and "Ground" in imported["skipped"]
    assert imported["dimensions"] == pytest.approx([1.0, 1.0, 1.0])
    with pytest.raises(ToolError, match=r"\[ASSET_SOURCE\].*no mesh object named 'Wall'.*Block, Ground"):
        await call(client, "asset_import", path=str(source), objects=["Wall"])

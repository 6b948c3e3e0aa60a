"""Safety tools on a real Blender worker: what the scene looks like after each fix, measured in bpy."""

from __future__ import annotations

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

WORLD_VERTS = """
dg = bpy.context.evaluated_depsgraph_get()
o = bpy.data.objects[{name!r}].evaluated_get(dg)
m = o.to_mesh()
print(json.dumps([list(o.matrix_world @ v.co) for v in m.vertices]))
o.to_mesh_clear()
"""


WORLD_BOUNDS = """
dg = bpy.context.evaluated_depsgraph_get()
o = bpy.data.objects[{name!r}].evaluated_get(dg)
pts = [o.matrix_world @ v.co for v in o.to_mesh().vertices]
print(json.dumps([[min(p[i] for p in pts) for i in range(3)], [max(p[i] for p in pts) for i in range(3)]]))
o.to_mesh_clear()
"""


async def world_verts(bpy_eval, name: str) -> list[list[float]]:
    """World-space vertex positions of a small mesh, measured independently of the tools."""
    return await bpy_eval(WORLD_VERTS.format(name=name))


async def bounds(bpy_eval, name: str) -> tuple[list[float], list[float]]:
    """World-space (min, max) of the evaluated mesh, measured independently of the tools."""
    return tuple(await bpy_eval(WORLD_BOUNDS.format(name=name)))


async def test_transform_to_floor_sets_a_floating_cubes_lowest_point_to_zero_keeping_x_and_y(client: Client, bpy_eval):
    await bpy_eval("bpy.ops.mesh.primitive_cube_add(size=2, location=(1.5, -2.0, 3.25), rotation=(0.4, 0.3, 0.2))")
    result = await client.call_tool("transform_to_floor", {"names": ["Cube"]})
    change = result.structured_content["changed"][0]
    low, high = await bounds(bpy_eval, "Cube")
    assert low[2] == pytest.approx(0.0, abs=1e-5)
    assert change["bounds_after"]["min"][2] == pytest.approx(0.0, abs=1e-5)
    assert change["bounds_before"]["min"][2] > 1.0
    assert change["location_after"][:2] == pytest.approx([1.5, -2.0])
    assert change["rotation_after"] == pytest.approx(change["rotation_before"])
    info = (await client.call_tool("get_scene_info", {})).structured_content
    assert info["objects"][0]["bbox_min"][2] == pytest.approx(0.0, abs=1e-5)


async def test_transform_to_floor_without_names_floors_every_mesh_on_its_own(client: Client, bpy_eval):
    await bpy_eval(
        "bpy.ops.mesh.primitive_cube_add(location=(0, 0, -4))\n"
        "bpy.ops.mesh.primitive_uv_sphere_add(radius=0.5, location=(3, 0, 7))\n"
        "bpy.ops.object.camera_add(location=(0, -5, 9))"
    )
    result = await client.call_tool("transform_to_floor", {})
    assert sorted(c["name"] for c in result.structured_content["changed"]) == ["Cube", "Sphere"]
    for name in ("Cube", "Sphere"):
        low, _ = await bounds(bpy_eval, name)
        assert low[2] == pytest.approx(0.0, abs=1e-5)
    assert await bpy_eval("print(json.dumps(bpy.data.objects['Camera'].location.z))") == pytest.approx(9.0)


async def test_transform_to_floor_together_keeps_an_object_resting_on_another(client: Client, bpy_eval):
    await bpy_eval(
        "bpy.ops.mesh.primitive_cube_add(size=2, location=(0, 0, 5))\n"
        "bpy.ops.mesh.primitive_cube_add(size=1, location=(0, 0, 6.5))"
    )
    await client.call_tool("transform_to_floor", {"names": ["Cube", "Cube.001"], "together": True})
    low, high = await bounds(bpy_eval, "Cube")
    top_low, _ = await bounds(bpy_eval, "Cube.001")
    assert low[2] == pytest.approx(0.0, abs=1e-5)
    assert top_low[2] == pytest.approx(high[2], abs=1e-5)


async def test_transform_to_floor_together_moves_a_parented_child_only_once(client: Client, bpy_eval):
    await bpy_eval(
        "bpy.ops.mesh.primitive_cube_add(size=2, location=(0, 0, 5))\n"
        "bpy.ops.mesh.primitive_cube_add(size=2, location=(0, 0, 8))\n"
        "child = bpy.context.active_object\n"
        "child.parent = bpy.data.objects['Cube']\n"
        "child.matrix_parent_inverse = bpy.data.objects['Cube'].matrix_world.inverted()"
    )
    await client.call_tool("transform_to_floor", {"names": ["Cube.001", "Cube"], "together": True})
    parent_low, _ = await bounds(bpy_eval, "Cube")
    child_low, _ = await bounds(bpy_eval, "Cube.001")
    assert (parent_low[2], child_low[2]) == pytest.approx((0.0, 3.0), abs=1e-5)


async def test_normalize_scale_makes_the_largest_dimension_equal_size(client: Client, bpy_eval):
    await bpy_eval("bpy.ops.mesh.primitive_cube_add(size=1, scale=(40, 10, 5))")
    result = await client.call_tool("normalize_scale", {"name": "Cube", "size": 2.0})
    low, high = await bounds(bpy_eval, "Cube")
    dims = [h - lo for lo, h in zip(low, high, strict=True)]
    assert max(dims) == pytest.approx(2.0, rel=1e-5)
    assert dims == pytest.approx([2.0, 0.5, 0.25], rel=1e-5)
    assert "0.05" in result.structured_content["note"]


async def test_normalize_scale_of_an_unknown_object_names_the_closest(client: Client, bpy_eval):
    await bpy_eval("bpy.ops.mesh.primitive_cube_add()")
    with pytest.raises(ToolError, match=r"^\[UNKNOWN_OBJECT\].*Cube"):
        await client.call_tool("normalize_scale", {"name": "cube"})


async def test_normalize_scale_refuses_a_zero_size_object(client: Client, bpy_eval):
    await bpy_eval("bpy.ops.mesh.primitive_cube_add(scale=(0, 0, 0))")
    with pytest.raises(ToolError, match=r"^\[BAD_ARGUMENT\].*zero size"):
        await client.call_tool("normalize_scale", {"name": "Cube"})


async def test_apply_transforms_leaves_identity_transforms_and_the_same_world_vertices(client: Client, bpy_eval):
    await bpy_eval(
        "bpy.ops.mesh.primitive_cube_add(location=(1, 2, 3), rotation=(0.5, 0.25, 1.0))\n"
        "bpy.context.active_object.scale = (2, 1, 0.5)"
    )
    before = await world_verts(bpy_eval, "Cube")
    result = await client.call_tool("apply_transforms", {"names": ["Cube"]})
    after = await world_verts(bpy_eval, "Cube")
    change = result.structured_content["changed"][0]
    assert change["location_after"] == pytest.approx([0, 0, 0])
    assert change["rotation_after"] == pytest.approx([0, 0, 0])
    assert change["scale_after"] == pytest.approx([1, 1, 1])
    assert change["scale_before"] == pytest.approx([2, 1, 0.5])
    assert [c for v in after for c in v] == pytest.approx([c for v in before for c in v], abs=1e-5)


async def test_apply_transforms_on_a_linked_duplicate_leaves_the_other_user_unchanged(client: Client, bpy_eval):
    await bpy_eval(
        "bpy.ops.mesh.primitive_cube_add(location=(0, 0, 0))\n"
        "twin = bpy.context.active_object.copy()\n"
        "bpy.context.collection.objects.link(twin)\n"
        "twin.name = 'Twin'\n"
        "bpy.data.objects['Cube'].scale = (3, 3, 3)"
    )
    twin_before = await world_verts(bpy_eval, "Twin")
    await client.call_tool("apply_transforms", {"names": ["Cube"]})
    assert [c for v in await world_verts(bpy_eval, "Twin") for c in v] == pytest.approx(
        [c for v in twin_before for c in v]
    )
    low, high = await bounds(bpy_eval, "Cube")
    assert high[0] - low[0] == pytest.approx(6.0)


async def test_apply_transforms_refuses_objects_without_geometry(client: Client, bpy_eval):
    await bpy_eval("bpy.ops.object.camera_add(location=(0, -5, 2))")
    with pytest.raises(ToolError, match=r"^\[UNSUPPORTED_OBJECT\].*Camera \(CAMERA\)"):
        await client.call_tool("apply_transforms", {"names": ["Camera"]})

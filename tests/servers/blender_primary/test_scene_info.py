"""get_scene_info lists every object with its facts; get_object_info details one or names the closest."""

from __future__ import annotations

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from harness.scene_types import SceneInfo


async def test_scene_info_lists_every_object_without_a_cap(client: Client, bpy_eval) -> None:
    await bpy_eval("for i in range(120):\n    bpy.ops.mesh.primitive_cube_add(size=0.1, location=(i, 0, 0))\n")
    info = SceneInfo.model_validate((await client.call_tool("get_scene_info", {})).structured_content)
    assert len(info.objects) == 120
    assert info.totals["objects"] == 120 and info.totals["verts"] == 960 and info.totals["faces"] == 720


async def test_scene_info_reports_transforms_bounds_mesh_stats_materials_and_hierarchy(client: Client, bpy_eval) -> None:
    await bpy_eval(
        "bpy.ops.mesh.primitive_cube_add(size=2, location=(1, 2, 3))\n"
        "cube = bpy.context.object\ncube.scale = (2, 1, 1)\n"
        "cube.data.materials.append(bpy.data.materials.new('Paint'))\n"
        "cube.modifiers.new('Bevel', 'BEVEL')\n"
        "bpy.ops.mesh.primitive_plane_add(size=1)\nplane = bpy.context.object\nplane.parent = cube\n"
        "bpy.ops.object.camera_add()\nbpy.context.scene.camera = bpy.context.object\n"
    )
    info = SceneInfo.model_validate((await client.call_tool("get_scene_info", {})).structured_content)
    by_name = {o.name: o for o in info.objects}
    cube, plane = by_name["Cube"], by_name["Plane"]
    assert cube.location == (1.0, 2.0, 3.0) and cube.scale == (2.0, 1.0, 1.0)
    assert cube.dimensions == pytest.approx((4.0, 2.0, 2.0))
    assert cube.bbox_min == pytest.approx((-1.0, 1.0, 2.0)) and cube.bbox_max == pytest.approx((3.0, 3.0, 4.0))
    assert cube.materials == ["Paint"] and cube.modifiers == ["Bevel"]
    assert cube.mesh.faces > 6  # stats are taken after modifiers
    assert cube.mesh.non_manifold_edges == 0
    assert plane.parent == "Cube" and plane.mesh.non_manifold_edges == 4  # an open plane's border
    assert cube.collection == "Scene Collection"
    assert info.camera == "Camera" and by_name["Camera"].mesh is None
    assert info.unit_system == "METRIC" and info.render_engine


async def test_object_info_details_modifiers_and_geometry_node_inputs(client: Client, bpy_eval) -> None:
    await bpy_eval(
        "bpy.ops.mesh.primitive_cube_add()\nobj = bpy.context.object\nobj['note'] = 'hi'\n"
        "tree = bpy.data.node_groups.new('Lift', 'GeometryNodeTree')\n"
        "tree.interface.new_socket('Geometry', in_out='INPUT', socket_type='NodeSocketGeometry')\n"
        "tree.interface.new_socket('Geometry', in_out='OUTPUT', socket_type='NodeSocketGeometry')\n"
        "height = tree.interface.new_socket('Height', in_out='INPUT', socket_type='NodeSocketFloat')\n"
        "mod = obj.modifiers.new('GN', 'NODES')\nmod.node_group = tree\nmod[height.identifier] = 2.5\n"
    )
    details = (await client.call_tool("get_object_info", {"name": "Cube"})).structured_content
    gn = details["modifiers"][0]
    assert gn["type"] == "NODES" and gn["node_group"] == "Lift"
    assert gn["inputs"]["Height"]["value"] == 2.5
    assert gn["inputs"]["Height"]["socket_type"] == "NodeSocketFloat"
    assert details["custom_properties"] == {"note": "hi"}
    assert details["summary"]["name"] == "Cube"


async def test_unknown_object_lists_the_closest_names(client: Client, bpy_eval) -> None:
    await bpy_eval("bpy.ops.mesh.primitive_cube_add()\nbpy.ops.mesh.primitive_monkey_add()\n")
    with pytest.raises(ToolError, match=r"^\[UNKNOWN_OBJECT\] no object named 'cube'.*Cube"):
        await client.call_tool("get_object_info", {"name": "cube"})

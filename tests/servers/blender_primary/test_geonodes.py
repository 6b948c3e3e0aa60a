"""Geometry-node tools on a real Blender worker: trees built call by call change the evaluated mesh,
gn_describe reads them back, and every wrong name comes back with the valid choices."""

from __future__ import annotations

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

EVALUATED = """
dg = bpy.context.evaluated_depsgraph_get()
o = bpy.data.objects[{name!r}].evaluated_get(dg)
m = o.to_mesh()
zs = [(o.matrix_world @ v.co).z for v in m.vertices]
print(json.dumps({{"verts": len(m.vertices), "faces": len(m.polygons), "max_z": max(zs) if zs else None}}))
o.to_mesh_clear()
"""


@pytest.fixture
async def cube_with_tree(client: Client, bpy_eval) -> str:
    """A cube carrying an empty geometry-nodes tree called `Tree`."""
    await bpy_eval("bpy.ops.mesh.primitive_cube_add()")
    await client.call_tool("gn_create_modifier", {"object_name": "Cube", "group_name": "Tree"})
    return "Tree"


async def add(client: Client, node_type: str, name: str, **extra) -> dict:
    result = await client.call_tool("gn_add_node", {"group": "Tree", "node_type": node_type, "name": name, **extra})
    return result.structured_content


async def link(client: Client, from_node: str, from_socket, to_node: str, to_socket) -> dict:
    arguments = {
        "group": "Tree",
        "from_node": from_node,
        "from_socket": from_socket,
        "to_node": to_node,
        "to_socket": to_socket,
    }
    return (await client.call_tool("gn_link", arguments)).structured_content


async def test_new_modifier_passes_the_geometry_through_unchanged(client: Client, cube_with_tree, bpy_eval):
    stats = await bpy_eval(EVALUATED.format(name="Cube"))
    assert (stats["verts"], stats["faces"]) == (8, 6)
    tree = (await client.call_tool("gn_describe", {"group": "Tree"})).structured_content
    assert tree["users"] == ["Cube/Tree"]
    assert [(link_["from_node"], link_["to_node"]) for link_ in tree["links"]] == [("Group Input", "Group Output")]


async def test_grid_with_set_position_built_by_tools_changes_the_evaluated_mesh(
    client: Client, cube_with_tree, bpy_eval
):
    await add(client, "GeometryNodeMeshGrid", "Grid")
    await add(client, "GeometryNodeSetPosition", "Lift")
    await link(client, "Grid", "Mesh", "Lift", "Geometry")
    await link(client, "Lift", 0, "Group Output", 0)
    await client.call_tool("gn_set_input", {"group": "Tree", "node": "Grid", "socket": "Vertices X", "value": 10})
    await client.call_tool("gn_set_input", {"group": "Tree", "node": "Grid", "socket": 3, "value": 5})
    await client.call_tool("gn_set_input", {"group": "Tree", "node": "Lift", "socket": "Offset", "value": [0, 0, 2.5]})
    stats = await bpy_eval(EVALUATED.format(name="Cube"))
    assert (stats["verts"], stats["faces"]) == (50, 36)
    assert stats["max_z"] == pytest.approx(2.5)


async def test_instances_on_points_realised_multiply_the_cube(client: Client, cube_with_tree, bpy_eval):
    await add(client, "GeometryNodeMeshGrid", "Grid")
    await add(client, "GeometryNodeInstanceOnPoints", "Scatter")
    await add(client, "GeometryNodeRealizeInstances", "Realize")
    await link(client, "Grid", "Mesh", "Scatter", "Points")
    await link(client, "Group Input", "Geometry", "Scatter", "Instance")
    await link(client, "Scatter", "Instances", "Realize", "Geometry")
    await link(client, "Realize", "Geometry", "Group Output", "Geometry")
    stats = await bpy_eval(EVALUATED.format(name="Cube"))
    assert (stats["verts"], stats["faces"]) == (9 * 8, 9 * 6)
    info = (await client.call_tool("get_scene_info", {})).structured_content
    assert info["objects"][0]["mesh"]["verts"] == 9 * 8
    assert info["objects"][0]["modifiers"] == ["Tree"]


async def test_modifier_input_exposed_from_the_group_drives_the_mesh(client: Client, cube_with_tree, bpy_eval):
    await add(client, "GeometryNodeMeshGrid", "Grid")
    await link(client, "Grid", "Mesh", "Group Output", "Geometry")
    exposed = await client.call_tool(
        "gn_add_group_input", {"group": "Tree", "name": "Columns", "socket_type": "INT", "default": 4}
    )
    await link(client, "Group Input", "Columns", "Grid", "Vertices X")
    assert (await bpy_eval(EVALUATED.format(name="Cube")))["verts"] == 4 * 3
    result = await client.call_tool("gn_set_input", {"object_name": "Cube", "socket": "Columns", "value": 7})
    assert (result.structured_content["before"], result.structured_content["after"]) == (4, 7)
    assert exposed.structured_content["identifier"].startswith("Socket_")
    assert (await bpy_eval(EVALUATED.format(name="Cube")))["verts"] == 7 * 3


async def test_describe_reflects_added_nodes_settings_and_links(client: Client, cube_with_tree):
    await add(client, "ShaderNodeMath", "Double", properties={"operation": "MULTIPLY"})
    await add(client, "GeometryNodeMeshGrid", "Grid")
    await link(client, "Double", "Value", "Grid", "Size X")
    tree = (await client.call_tool("gn_describe", {"group": "Tree"})).structured_content
    nodes = {n["name"]: n for n in tree["nodes"]}
    assert set(nodes) == {"Group Input", "Group Output", "Double", "Grid"}
    assert nodes["Double"]["type"] == "ShaderNodeMath"
    assert nodes["Double"]["properties"]["operation"] == "MULTIPLY"
    size_x = next(s for s in nodes["Grid"]["inputs"] if s["name"] == "Size X")
    assert size_x["linked"] and not size_x["settable"] and size_x["type"] == "VALUE"
    assert {
        "from_node": "Double",
        "from_socket": "Value",
        "from_index": 0,
        "to_node": "Grid",
        "to_socket": "Size X",
        "to_index": 0,
        "valid": True,
    } in tree["links"]


async def test_unknown_node_type_error_names_close_valid_types(client: Client, cube_with_tree):
    with pytest.raises(ToolError, match=r"^\[GN_UNKNOWN_NODE_TYPE\]") as caught:
        await add(client, "GeometryNodeMeshGird", "Oops")
    assert "GeometryNodeMeshGrid" in str(caught.value)
    with pytest.raises(ToolError, match=r"GeometryNodeSetPosition"):
        await add(client, "SetPosition", "Oops")


async def test_unknown_socket_error_lists_the_nodes_sockets(client: Client, cube_with_tree):
    await add(client, "GeometryNodeMeshGrid", "Grid")
    with pytest.raises(ToolError, match=r"^\[GN_UNKNOWN_SOCKET\]") as caught:
        await link(client, "Grid", "Geometry", "Group Output", 0)
    assert "0 'Mesh' (GEOMETRY)" in str(caught.value) and "'UV Map'" in str(caught.value)
    with pytest.raises(ToolError, match=r"'Size X' \(VALUE\).*'Vertices Y' \(INT\)"):
        await client.call_tool("gn_set_input", {"group": "Tree", "node": "Grid", "socket": "Width", "value": 1.0})


async def test_unknown_node_and_group_errors_list_what_exists(client: Client, cube_with_tree):
    with pytest.raises(ToolError, match=r"^\[GN_UNKNOWN_NODE\].*Group Input, Group Output"):
        await link(client, "Grid", 0, "Group Output", 0)
    with pytest.raises(ToolError, match=r"^\[GN_UNKNOWN_GROUP\].*Tree"):
        await client.call_tool("gn_describe", {"group": "Tre"})


async def test_incompatible_link_is_refused_and_not_left_in_the_tree(client: Client, cube_with_tree):
    await add(client, "GeometryNodeMeshGrid", "Grid")
    await add(client, "ShaderNodeMath", "Math")
    with pytest.raises(ToolError, match=r"^\[GN_BAD_LINK\] a GEOMETRY output"):
        await link(client, "Grid", "Mesh", "Math", 0)
    tree = (await client.call_tool("gn_describe", {"group": "Tree"})).structured_content
    assert all(link_["to_node"] != "Math" for link_ in tree["links"])


async def test_wrong_values_and_settings_name_what_is_accepted(client: Client, cube_with_tree):
    await add(client, "GeometryNodeMeshGrid", "Grid")
    await add(client, "ShaderNodeMath", "Math")
    with pytest.raises(ToolError, match=r"^\[GN_BAD_VALUE\].*INT socket: give an integer"):
        await client.call_tool("gn_set_input", {"group": "Tree", "node": "Grid", "socket": "Vertices X", "value": 2.5})
    with pytest.raises(ToolError, match=r"^\[GN_BAD_VALUE\].*takes one of: .*MULTIPLY"):
        await client.call_tool(
            "gn_set_node_property", {"group": "Tree", "node": "Math", "property": "operation", "value": "TIMES"}
        )
    with pytest.raises(ToolError, match=r"^\[GN_NAME_TAKEN\]"):
        await add(client, "GeometryNodeMeshCube", "Grid")


async def test_a_linked_input_cannot_be_set(client: Client, cube_with_tree):
    await add(client, "GeometryNodeMeshGrid", "Grid")
    await add(client, "ShaderNodeValue", "Size")
    await link(client, "Size", 0, "Grid", "Size X")
    with pytest.raises(ToolError, match=r"^\[GN_BAD_VALUE\].*is linked"):
        await client.call_tool("gn_set_input", {"group": "Tree", "node": "Grid", "socket": "Size X", "value": 3.0})


async def test_removing_a_node_drops_its_links_and_restores_the_pass_through(client: Client, cube_with_tree, bpy_eval):
    await add(client, "GeometryNodeMeshGrid", "Grid")
    await link(client, "Grid", "Mesh", "Group Output", "Geometry")
    assert (await bpy_eval(EVALUATED.format(name="Cube")))["verts"] == 9
    tree = (await client.call_tool("gn_remove_node", {"group": "Tree", "node": "Grid"})).structured_content
    assert [n["name"] for n in tree["nodes"]] == ["Group Input", "Group Output"]
    assert tree["links"] == []
    await link(client, "Group Input", "Geometry", "Group Output", "Geometry")
    assert (await bpy_eval(EVALUATED.format(name="Cube")))["verts"] == 8


async def test_modifier_inputs_of_every_value_kind_are_set_and_read_back(client: Client, cube_with_tree, bpy_eval):
    await bpy_eval("bpy.ops.object.empty_add()")
    cases = [
        ("FLOAT", 1.5, 2.0),
        ("BOOLEAN", True, False),
        ("VECTOR", [1, 2, 3], [4, 5, 6]),
        ("OBJECT", "Empty", "Cube"),
    ]
    for socket_type, default, value in cases:
        name = socket_type.lower()
        arguments = {"group": "Tree", "name": name, "socket_type": socket_type, "default": default}
        await client.call_tool("gn_add_group_input", arguments)
        result = await client.call_tool("gn_set_input", {"object_name": "Cube", "socket": name, "value": value})
        expected_before = [float(c) for c in default] if isinstance(default, list) else default
        assert (result.structured_content["before"], result.structured_content["after"]) == (expected_before, value)


async def test_modifier_input_errors_say_what_the_object_has(client: Client, bpy_eval):
    await bpy_eval("bpy.ops.mesh.primitive_cube_add()")
    with pytest.raises(
        ToolError, match=r"^\[GN_UNKNOWN_GROUP\] object 'Cube' has no geometry-nodes modifier; .*gn_create_modifier"
    ):
        await client.call_tool("gn_set_input", {"object_name": "Cube", "socket": "Count", "value": 1})
    await client.call_tool("gn_create_modifier", {"object_name": "Cube", "group_name": "Tree"})
    with pytest.raises(ToolError, match=r"^\[GN_UNKNOWN_SOCKET\] .*none.*gn_add_group_input"):
        await client.call_tool("gn_set_input", {"object_name": "Cube", "socket": "Count", "value": 1})

"""`tools.<name>(...)` inside bpy code: the worker's MCP tools as functions, so a model's tool call replays as code."""

from __future__ import annotations

from pathlib import Path

from fastmcp import Client

from servers.blender_primary.server import create_server
from servers.blender_primary.state import WorkerState
from tests.servers.blender_primary.test_safety import bounds


async def test_a_tool_called_from_code_changes_the_scene_like_the_mcp_tool_and_prints_its_result(client: Client, bpy_eval):
    await bpy_eval("bpy.ops.mesh.primitive_cube_add(size=2, location=(1.0, 0.0, 3.0))")
    report = (await client.call_tool("execute_code", {"code": "r = tools.transform_to_floor(names=['Cube'])\n"
                                                                  "assert r['changed'][0]['name'] == 'Cube'"})).structured_content
    assert report["success"], report
    assert '"tool": "transform_to_floor"' in report["stdout"]
    low, high = await bounds(bpy_eval, "Cube")
    assert abs(low[2]) < 1e-5 and abs(high[2] - 2.0) < 1e-5 and abs(low[0] - 0.0) < 1e-5


async def test_geometry_node_tools_build_a_tree_from_code(client: Client, bpy_eval):
    await bpy_eval("bpy.ops.mesh.primitive_cube_add(size=2)")
    code = ("tools.gn_create_modifier(object_name='Cube', group_name='Lift')\n"
            "tools.gn_add_node(group='Lift', node_type='GeometryNodeTransform', name='T')\n"
            "tools.gn_link(group='Lift', from_node='Group Input', from_socket=0, to_node='T', to_socket='Geometry')\n"
            "tools.gn_link(group='Lift', from_node='T', from_socket='Geometry', to_node='Group Output', to_socket=0)\n"
            "tools.gn_set_input(group='Lift', node='T', socket='Translation', value=[0, 0, 2])\n")
    report = (await client.call_tool("execute_code", {"code": code})).structured_content
    assert report["success"], report
    low, high = await bounds(bpy_eval, "Cube")
    assert abs(low[2] - 1.0) < 1e-5 and abs(high[2] - 3.0) < 1e-5


async def test_bad_arguments_and_unknown_tools_fail_the_snippet_with_a_clear_message(client: Client):
    bad = (await client.call_tool("execute_code", {"code": "tools.normalize_scale(name='Cube', size=-1)"})).structured_content
    assert not bad["success"] and "[BAD_ARGUMENT] tools.normalize_scale: size" in bad["exception"]["message"]
    unknown = (await client.call_tool("execute_code", {"code": "tools.delete_everything()"})).structured_content
    assert not unknown["success"] and "snippet tools: transform_to_floor" in unknown["exception"]["message"]


async def test_tools_are_offered_under_the_block_policy_which_still_refuses_imports(tmp_path: Path):
    dirs = WorkerState.prepare(tmp_path / "work")
    async with Client(create_server(dirs.workdir, code_policy="block")) as client:
        ok = (await client.call_tool("execute_code", {"code": "bpy.ops.mesh.primitive_cube_add(location=(0, 0, 5))\n"
                                                              "tools.transform_to_floor()"})).structured_content
        assert ok["success"], ok
        refused = (await client.call_tool("execute_code", {"code": "import os"})).structured_content
        assert not refused["success"] and refused["error_class"] == "POLICY"

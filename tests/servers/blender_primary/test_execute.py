"""execute_code through the in-memory client: every way a snippet can fail comes back as a report,
and the worker keeps serving afterwards."""

from __future__ import annotations

from typing import Any

from fastmcp import Client

from harness.validator import MAX_CODE_BYTES


async def execute(client: Client, code: str, **kwargs: Any) -> dict[str, Any]:
    result = await client.call_tool("execute_code", {"code": code, **kwargs})
    return result.structured_content


async def assert_alive(client: Client) -> None:
    assert (await client.call_tool("ping", {})).structured_content["status"] == "ok"


async def test_successful_snippet_reports_stdout_and_added_objects(client: Client) -> None:
    report = await execute(client, "bpy.ops.mesh.primitive_cube_add()\nprint('made', bpy.context.object.name)\n")
    assert report["success"] is True
    assert report["error_class"] == "NONE"
    assert report["stdout"] == "made Cube\n"
    assert report["scene_delta"] == {"added": ["Cube"], "removed": [], "changed": []}
    assert report["blender_version"].startswith("5.")
    assert set(report["timings"]) >= {"validate", "execute", "total"}


async def test_namespace_has_blender_and_math_modules_preloaded(client: Client) -> None:
    code = "print(Vector((1, 2, 3)).length > 3, Matrix.Identity(3)[0][0], Euler((0, 0, 0)).order, Color((1, 0, 0)).r, math.tau > 6, bmesh.new() is not None, json.dumps([random.random() < 1]))"
    report = await execute(client, code)
    assert report["stdout"].strip() == "True 1.0 XYZ 1.0 True True [true]"


async def test_syntax_error_is_reported_with_line_and_column_before_blender_runs(client: Client) -> None:
    report = await execute(client, "bpy.ops.mesh.primitive_cube_add()\n\nfor i in range(3)\n    pass\n")
    assert report["success"] is False
    assert report["error_class"] == "SYNTAX"
    assert report["exception"]["line"] == 3
    assert report["exception"]["column"] == 18
    assert report["scene_delta"]["added"] == []  # the first line never ran


async def test_runtime_error_is_reported_at_its_line_in_the_snippet(client: Client) -> None:
    code = "a = 1\n\ndef f(x):\n    return x['missing']\n\nf({})\n"
    report = await execute(client, code)
    assert report["error_class"] == "RUNTIME"
    assert report["exception"]["type"] == "KeyError"
    assert report["exception"]["line"] == 4
    assert 'File "<snippet>", line 4' in report["exception"]["traceback"]
    assert "execution.py" not in report["exception"]["traceback"]


async def test_poll_failure_is_classified_as_blender_context(client: Client) -> None:
    report = await execute(client, "bpy.ops.mesh.primitive_cube_add()\nbpy.ops.mesh.subdivide()\n")
    assert report["error_class"] == "BLENDER_CONTEXT"
    assert report["exception"]["line"] == 2
    assert "poll() failed" in report["exception"]["message"]
    assert report["scene_delta"]["added"] == ["Cube"]  # work before the failure is reported


async def test_sys_exit_in_a_snippet_fails_the_report_and_the_worker_survives(client: Client) -> None:
    for code in ("import sys\nsys.exit(3)", "exit()", "quit(1)", "raise SystemExit", "raise KeyboardInterrupt"):
        report = await execute(client, code)
        assert report["success"] is False, code
        assert report["exception"]["type"] in ("SystemExit", "KeyboardInterrupt")
        assert report["exception"]["type"] == "KeyboardInterrupt" or "worker keeps running" in report["exception"]["message"]
    await assert_alive(client)


async def test_quit_blender_operator_is_refused_and_the_worker_survives(client: Client) -> None:
    report = await execute(client, "import bpy as b\nb.ops.wm.quit_blender()\n")
    assert report["success"] is False
    assert report["exception"]["type"] == "QuitRefused"
    assert report["exception"]["line"] == 2
    await assert_alive(client)
    assert (await execute(client, "bpy.ops.mesh.primitive_cube_add()"))["success"] is True


async def test_pure_python_hang_is_interrupted_as_timeout(client: Client) -> None:
    report = await execute(client, "n = 0\nwhile True:\n    n += 1\n", timeout_s=0.3)
    assert report["error_class"] == "TIMEOUT"
    assert report["exception"]["line"] in (2, 3)
    assert 0.25 < report["timings"]["execute"] < 2.0
    await assert_alive(client)


async def test_timeout_cannot_be_swallowed_by_a_bare_except_exception(client: Client) -> None:
    code = "while True:\n    try:\n        sum(range(10000))\n    except Exception:\n        pass\n"
    report = await execute(client, code, timeout_s=0.3)
    assert report["error_class"] == "TIMEOUT"


async def test_code_over_one_megabyte_is_refused_with_a_clear_error(client: Client) -> None:
    report = await execute(client, "x = 1\n" + "#" * MAX_CODE_BYTES)
    assert report["success"] is False
    assert report["exception"]["type"] == "CodeTooLarge"
    assert "limit is 1000000 bytes" in report["exception"]["message"]


async def test_risky_calls_run_but_are_logged_as_warnings(client: Client) -> None:
    report = await execute(client, "import os\nprint(os.sep)\n")
    assert report["success"] is True
    assert report["warnings"] == ["line 1: imports os (policy: log)"]


async def test_stderr_is_captured_and_changed_objects_are_listed(client: Client) -> None:
    await execute(client, "bpy.ops.mesh.primitive_cube_add()\nbpy.ops.mesh.primitive_uv_sphere_add()")
    code = "import sys\nbpy.data.objects['Cube'].location.x = 3\nbpy.data.objects.remove(bpy.data.objects['Sphere'])\nprint('oops', file=sys.stderr)\n"
    report = await execute(client, code)
    assert report["stderr"] == "oops\n"
    assert report["scene_delta"] == {"added": [], "removed": ["Sphere"], "changed": ["Cube"]}


async def test_huge_output_keeps_only_its_tail(client: Client) -> None:
    report = await execute(client, "for i in range(30000):\n    print(i)\n")
    assert report["success"] is True
    assert report["stdout"].endswith("29999\n") and len(report["stdout"]) <= 8000


async def test_snippet_left_in_edit_mode_is_returned_to_object_mode_with_a_warning(client: Client) -> None:
    code = "bpy.ops.mesh.primitive_cube_add()\nbpy.ops.object.mode_set(mode='EDIT')\nbpy.ops.mesh.subdivide()\n"
    report = await execute(client, code)
    assert report["success"] is True
    assert report["warnings"] == ["the snippet left Blender in EDIT_MESH mode; switched back to OBJECT mode"]
    info = (await client.call_tool("get_object_info", {"name": "Cube"})).structured_content
    assert info["summary"]["mesh"]["verts"] > 8  # the subdivision is visible to scene facts

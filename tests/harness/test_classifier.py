"""Error classes assigned to real failures raised by real Blender calls, not to typed strings."""

from __future__ import annotations

import bpy  # noqa: I001  (bpy first: it makes bmesh importable)
import bmesh
import pytest

from harness.classifier import classify, classify_exception, classify_exit
from harness.report import ErrorClass


@pytest.fixture
def cube() -> bpy.types.Object:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.mesh.primitive_cube_add()
    return bpy.context.object


def raised(call) -> BaseException:
    with pytest.raises(BaseException) as caught:
        call()
    return caught.value


def test_edit_mode_operator_in_object_mode_is_a_context_error(cube: bpy.types.Object) -> None:
    exc = raised(lambda: bpy.ops.mesh.subdivide())
    assert "poll() failed" in str(exc)
    assert classify_exception(exc) is ErrorClass.BLENDER_CONTEXT


def test_bmesh_from_edit_mesh_outside_edit_mode_is_a_context_error(cube: bpy.types.Object) -> None:
    exc = raised(lambda: bmesh.from_edit_mesh(cube.data))
    assert classify_exception(exc) is ErrorClass.BLENDER_CONTEXT


def test_missing_context_member_is_a_context_error(cube: bpy.types.Object) -> None:
    exc = raised(lambda: bpy.context.active_bone_xyz)
    assert classify_exception(exc) is ErrorClass.BLENDER_CONTEXT


def test_opening_a_missing_blend_is_a_resource_error() -> None:
    exc = raised(lambda: bpy.ops.wm.open_mainfile(filepath="/nonexistent/scene.blend"))
    assert classify_exception(exc) is ErrorClass.RESOURCE


def test_loading_a_missing_image_is_a_resource_error() -> None:
    exc = raised(lambda: bpy.data.images.load("/nonexistent/texture.png"))
    assert classify_exception(exc) is ErrorClass.RESOURCE


def test_wrong_enum_value_is_a_runtime_error(cube: bpy.types.Object) -> None:
    exc = raised(lambda: setattr(cube, "display_type", "SPARKLY"))
    assert classify_exception(exc) is ErrorClass.RUNTIME


def test_unknown_operator_argument_is_a_runtime_error() -> None:
    exc = raised(lambda: bpy.ops.mesh.primitive_cube_add(sides=7))
    assert classify_exception(exc) is ErrorClass.RUNTIME


def test_classification_by_name_works_across_processes() -> None:
    assert classify("IndentationError", "unexpected indent") is ErrorClass.SYNTAX
    assert classify("RuntimeError", "Operator bpy.ops.object.mode_set.poll() failed, context is incorrect") is ErrorClass.BLENDER_CONTEXT
    assert classify("SnippetTimeout", "") is ErrorClass.TIMEOUT
    assert classify("Weird", "") is ErrorClass.UNKNOWN


def test_a_dead_worker_is_a_crash_unless_the_watchdog_says_why() -> None:
    assert classify_exit() is ErrorClass.CRASH
    assert classify_exit("timeout") is ErrorClass.TIMEOUT
    assert classify_exit("memory") is ErrorClass.RESOURCE

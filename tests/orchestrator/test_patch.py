"""A fixer's unified diff is applied exactly, or refused with the line that does not match."""

import pytest

from orchestrator.patch import PatchError, apply_unified_diff

PROGRAM = "import bpy\nsize = 1.0\nbpy.ops.mesh.primitive_cube_add(size=size)\nbpy.context.active_objekt.name = 'Cube'\n"

DIFF = """--- a/code.py
+++ b/code.py
@@ -3,2 +3,2 @@
 bpy.ops.mesh.primitive_cube_add(size=size)
-bpy.context.active_objekt.name = 'Cube'
+bpy.context.active_object.name = 'Cube'
"""


def test_a_diff_changes_only_its_lines():
    assert apply_unified_diff(PROGRAM, DIFF) == PROGRAM.replace("active_objekt", "active_object")


def test_a_diff_against_other_text_is_refused_with_the_mismatch():
    with pytest.raises(PatchError, match="expected line 3"):
        apply_unified_diff(PROGRAM.replace("size=size", "size=2"), DIFF)
    with pytest.raises(PatchError, match="no @@ hunks"):
        apply_unified_diff(PROGRAM, "just prose")


def test_added_lines_at_the_top_and_removed_lines_at_the_end():
    diff = "@@ -1,1 +1,2 @@\n+import math\n import bpy\n@@ -4,1 +5,0 @@\n-bpy.context.active_objekt.name = 'Cube'\n"
    assert apply_unified_diff(PROGRAM, diff) == "import math\n" + "\n".join(PROGRAM.splitlines()[:3]) + "\n"

"""The validator refuses what must not reach Blender and flags what a reviewer should see."""

from __future__ import annotations

import pytest

from harness.errors import CodeRejected
from harness.report import ErrorClass
from harness.validator import MAX_CODE_BYTES, Policy, validate


def test_syntax_error_reports_line_and_column() -> None:
    with pytest.raises(CodeRejected) as caught:
        validate("x = 1\ny = (2,\nz = 3 +\n")
    assert caught.value.error_class is ErrorClass.SYNTAX
    assert caught.value.info.type == "SyntaxError"
    assert caught.value.info.line == 2
    assert caught.value.info.column is not None


def test_indentation_error_is_a_syntax_error_on_its_line() -> None:
    with pytest.raises(CodeRejected) as caught:
        validate("if True:\n    a = 1\n  b = 2\n")
    assert caught.value.error_class is ErrorClass.SYNTAX
    assert caught.value.info.line == 3


def test_code_over_one_megabyte_is_refused_before_parsing() -> None:
    with pytest.raises(CodeRejected) as caught:
        validate("#" * (MAX_CODE_BYTES + 1))
    assert caught.value.info.type == "CodeTooLarge"
    assert "1 MB" in caught.value.info.message


def test_log_policy_warns_once_per_risky_use_with_its_line() -> None:
    code = "import bpy\nimport os, subprocess\nfrom socket import socket\ndata = open('f').read()\neval('1')\n"
    warnings = validate(code, Policy.LOG).warnings
    assert warnings == [
        "line 2: imports os (policy: log)",
        "line 2: imports subprocess (policy: log)",
        "line 3: imports from socket (policy: log)",
        "line 4: uses open (policy: log)",
        "line 5: uses eval (policy: log)",
    ]


def test_block_policy_refuses_dunder_import_with_its_line() -> None:
    with pytest.raises(CodeRejected) as caught:
        validate("x = 1\nm = __import__('os')\n", Policy.BLOCK)
    assert caught.value.error_class is ErrorClass.POLICY
    assert caught.value.info.line == 2
    assert "__import__" in caught.value.info.message


def test_clean_code_passes_block_policy_without_warnings() -> None:
    assert validate("import bpy, math\nbpy.ops.mesh.primitive_cube_add(size=math.pi)\n", Policy.BLOCK).warnings == []

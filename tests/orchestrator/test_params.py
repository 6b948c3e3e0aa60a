"""`# param` literals: found with their ranges, rewritten exactly, everything else untouched."""

import pytest

from orchestrator.errors import ParamError
from orchestrator.params import apply_values, find_params, skeleton

PROGRAM = '''import bpy
size = (1.0, 1.0, 1.0)  # param 0.2..3.0
offset_x = -0.5   # param -1.5..1.5 keep this note
count = 3  # param 1..8
label = "é"  ; height = 2.0  # param 0.5..4
'''


def test_scalars_and_tuples_are_found_with_ranges_in_source_order():
    params = find_params(PROGRAM)
    assert [(p.name, p.lo, p.hi, p.value) for p in params] == [
        ("size", 0.2, 3.0, [1.0, 1.0, 1.0]),
        ("offset_x", -1.5, 1.5, [-0.5]),
        ("count", 1.0, 8.0, [3.0]),
        ("height", 0.5, 4.0, [2.0]),
    ]


def test_rewrite_changes_only_the_literals_and_keeps_comments():
    out = apply_values(PROGRAM, {"size": [2.0, 0.5, 1.25], "offset_x": [0.7], "count": [5.4], "height": [3.5]})
    assert out.splitlines()[1] == "size = (2.0, 0.5, 1.25)  # param 0.2..3.0"
    assert out.splitlines()[2] == "offset_x = 0.7   # param -1.5..1.5 keep this note"
    assert out.splitlines()[3] == "count = 5  # param 1..8"
    assert out.splitlines()[4] == 'label = "é"  ; height = 3.5  # param 0.5..4'
    assert [p.value for p in find_params(out)][0] == [2.0, 0.5, 1.25]


def test_values_outside_the_range_are_clipped():
    out = apply_values(PROGRAM, {"offset_x": [9.0]})
    assert find_params(out)[1].value == [1.5]


def test_skeleton_is_equal_for_programs_that_differ_only_in_params():
    other = apply_values(PROGRAM, {"size": [2.0, 2.0, 2.0]})
    assert skeleton(other) == skeleton(PROGRAM)
    assert skeleton(PROGRAM.replace("import bpy", "import bpy, math")) != skeleton(PROGRAM)


@pytest.mark.parametrize("bad, message", [
    ("x = 1.0  # param 2..1\n", "empty range"),
    ("x = 1.0  # param\n", "needs a range"),
    ("x = foo()  # param 0..1\n", "number or a tuple"),
    ("x = y = 1.0  # param 0..1\n", "not on a simple"),
])
def test_malformed_markers_are_reported_with_their_line(bad, message):
    with pytest.raises(ParamError, match=message):
        find_params(bad)


def test_wrong_component_count_and_unknown_names_are_refused():
    with pytest.raises(ParamError, match="3 component"):
        apply_values(PROGRAM, {"size": [1.0]})
    with pytest.raises(ParamError, match="unknown params: nope"):
        apply_values(PROGRAM, {"nope": [1.0]})

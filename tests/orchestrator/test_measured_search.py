"""The search with measured Jacobian columns: parameters that move geometry are differenced from
measurements (no render), the others rendered; fewer renders to the answer, still a pure function
of what was recorded."""

import math

import numpy as np

from orchestrator.builders.least_squares import next_point, next_requests


def canon(x):
    return tuple(round(min(1.0, max(0.0, float(v))), 4) for v in x)


TARGET = (0.7, 0.3, 0.55)  # two geometric parameters, then a colour


def full(p):
    """What a render gives: geometry rows (moved by the first two parameters), then pixel-like rows of all three."""
    d = np.asarray(p) - np.asarray(TARGET)
    geometry = [d[0], d[1], d[0] + 0.5 * d[1], 0.3 * d[0] ** 2]
    pixels = [0.5 * d[2], 0.2 * (d[0] + d[2]), math.tanh(d.sum())]
    return geometry + pixels


def measured(p):
    """What a measurement of the scene gives: the geometry rows, NaN where only a render knows."""
    return full(p)[:4] + [math.nan] * 3


def search(use_measure, budget=40):
    evaluated, probes, renders = {}, {}, 0
    for _ in range(400):
        (p, *_), measure = next_requests([0.5] * 3, 0, evaluated, canon, probes if use_measure else None)
        if measure:
            assert use_measure and p not in probes
            probes[p] = measured(p)
            continue
        assert p not in evaluated
        evaluated[p] = full(p)
        renders += 1
        if max(abs(a - b) for a, b in zip(p, TARGET)) <= 0.02 or renders >= budget:
            return renders, evaluated, probes
    raise AssertionError("the search never settled")


def test_geometric_columns_come_from_measurements_and_colour_ones_from_renders() -> None:
    _, evaluated, probes = search(True, budget=3)
    start = canon([0.5] * 3)
    rendered = list(evaluated)
    assert rendered[0] == start
    assert rendered[1][:2] == start[:2] and rendered[1][2] != start[2]  # the colour's probe is rendered
    geometric = [p for p in probes if p != start and p[2] == start[2]]
    assert len(geometric) == 4 and not set(geometric) & set(evaluated)  # both sides of each; never rendered


def test_measuring_reaches_the_answer_in_fewer_renders() -> None:
    with_measure, _, _ = search(True)
    without, _, _ = search(False)
    assert with_measure < without, (with_measure, without)


def test_without_measurements_the_search_is_what_it_was() -> None:
    evaluated = {}
    for _ in range(5):
        p = next_point([0.5] * 3, 0, evaluated, canon)
        points, measure = next_requests([0.5] * 3, 0, evaluated, canon)
        assert points[0] == p and not measure
        evaluated[p] = full(p)


def test_the_proposal_is_a_pure_function_of_the_recorded_evaluations_and_probes() -> None:
    _, evaluated, probes = search(True, budget=5)
    again = next_requests([0.5] * 3, 0, dict(reversed(list(evaluated.items()))), canon, dict(reversed(list(probes.items()))))
    assert again == next_requests([0.5] * 3, 0, evaluated, canon, probes)


def test_an_anchors_measurements_are_asked_together_in_the_order_one_at_a_time_asks_them() -> None:
    """What the builder sends to the worker in one call is what the search would have asked probe by probe,
    so batching changes the cost of an iteration, not the search."""
    _, evaluated_one, probes_one = search(True, budget=8)
    evaluated, probes, batches = {}, {}, []
    while len(evaluated) < len(evaluated_one):
        points, measure = next_requests([0.5] * 3, 0, evaluated, canon, probes)
        if measure:
            assert not set(points) & set(probes) and len(set(points)) == len(points)
            batches.append(points)
            probes.update({q: measured(q) for q in points})
            continue
        evaluated[points[0]] = full(points[0])  # a render: the first of its batch, the rest asked again next
    assert list(evaluated) == list(evaluated_one)
    assert set(probes_one) <= set(probes)  # the batch may hold a colour's mirror, before it is known to move nothing
    assert all(q[:2] == p[:2] for q in set(probes) - set(probes_one) for p in [canon([0.5] * 3)])
    assert len(batches) < len(probes) and max(len(b) for b in batches) > 1  # fewer calls than probes


def test_a_parameter_measured_to_move_no_geometry_is_not_measured_again() -> None:
    """The colour's probe finds no geometry at the first anchor; at later anchors only the two geometric
    parameters are measured (and the point itself), while the renders stay what they were."""
    _, evaluated, probes = search(True, budget=8)
    start = canon([0.5] * 3)
    assert any(q[:2] == start[:2] and q[2] != start[2] for q in probes)  # measured once, at the first anchor
    anchors = [a for a in probes if a in evaluated and a != start  # later points whose geometry was measured afresh
               and any(q[0] != a[0] and q[1:] == a[1:] for q in probes)]
    assert anchors
    for a in anchors:
        assert not any(q[:2] == a[:2] and q[2] != a[2] for q in probes)  # the colour: not again


def test_at_a_kink_the_measured_columns_are_central_so_no_seed_decides_which_part_grows() -> None:
    """Three equal balls, all the widest: the subject's width is their max, too narrow by the base's 0.2. A forward
    difference on the shrinking side says a ball cannot widen the subject, on the growing side that it can: which
    ball the first step grew depended on the side the seed tried first (on the snowman: the middle one)."""
    target = np.array([0.7, 0.5, 0.33])

    def rows(p: tuple[float, ...]) -> list[float]:
        r = np.asarray(p)
        return [3 * (r.max() - target.max()), *(0.05 * (r - target))]

    steps = set()
    for seed in range(6):  # each dimension's first side is a function of the seed
        evaluated: dict = {canon([0.5] * 3): rows(canon([0.5] * 3))}
        probes: dict = {}
        while True:
            points, measure = next_requests([0.5] * 3, seed, evaluated, canon, probes)
            if not measure:
                break
            probes.update({q: rows(q) for q in points})
        steps.add(tuple(np.round(np.subtract(points[0], [0.5] * 3), 4)))
    assert len(steps) == 1, steps
    step = steps.pop()
    assert step[0] > 0 and step[0] >= max(step[1:]), step

"""The residual search: deterministic and order-free in its evaluations, batched where it can be, and fast."""

import math
import random

import numpy as np
import pytest

from orchestrator.builders.least_squares import FD_STEP, next_point, next_requests, random_point


def canon(x):
    return tuple(round(min(1.0, max(0.0, float(v))), 4) for v in x)


def residuals(p, target):
    """A mildly nonlinear map from parameters to named residuals (more residuals than parameters)."""
    d = np.asarray(p) - np.asarray(target)
    return list(d) + list(0.5 * d**2 + 0.3 * np.roll(d, 1)) + [math.tanh(d.sum())]


def run(seed, target, budget, tol, x0=None, failing=lambda p: False):
    x0 = x0 or [0.5] * len(target)
    evaluated = {}
    order = []
    for _ in range(budget):
        p = next_point(x0, seed, evaluated, canon)
        assert p not in evaluated, "a point was asked twice"
        evaluated[p] = None if failing(p) else residuals(p, target)
        order.append(p)
        if evaluated[p] is not None and max(abs(a - b) for a, b in zip(p, target)) <= tol:
            break
    return order, evaluated


def test_the_same_seed_and_evaluations_give_the_same_next_point_in_any_order():
    target = [0.2, 0.9, 0.4]
    a, evaluated = run(3, target, 9, 0.0)
    b, _ = run(3, target, 9, 0.0)
    assert a == b
    last = a[-1]
    first_eight = [(p, evaluated[p]) for p in a[:-1]]
    assert next_point([0.5] * 3, 3, dict(first_eight), canon) == last
    assert next_point([0.5] * 3, 3, dict(random.Random(1).sample(first_eight, len(first_eight))), canon) == last


def test_it_starts_at_the_start_then_probes_one_dimension_at_a_time():
    order, _ = run(0, [0.2, 0.7], 3, 0.0)
    assert order[0] == (0.5, 0.5)
    steps = [np.abs(np.subtract(p, order[0])) for p in order[1:3]]
    assert sorted(tuple(np.round(s, 4)) for s in steps) == [(0.0, FD_STEP), (FD_STEP, 0.0)]


def test_it_reaches_the_answer_of_a_seven_parameter_problem_in_a_dozen_evaluations():
    counts = []
    for seed in range(4):
        rng = random.Random(100 + seed)
        target = [0.15 + 0.7 * rng.random() for _ in range(7)]
        order, _ = run(seed, target, 60, 0.01)
        counts.append(len(order))
    assert sorted(counts)[1] <= 12, counts  # 1 start + 7 probes + a few Gauss-Newton steps


def test_it_needs_far_fewer_evaluations_than_random_search():
    ours, theirs = [], []
    for seed in range(3):
        rng = random.Random(200 + seed)
        target = [rng.random() for _ in range(4)]
        ours.append(len(run(seed, target, 200, 0.05)[0]))
        r = random.Random(seed)
        theirs.append(next((k + 1 for k in range(20000)
                            if max(abs(a - b) for a, b in zip(random_point(4, r), target)) <= 0.05), 20000))
    assert sum(theirs) / sum(ours) >= 10, (ours, theirs)


def test_the_columns_an_anchor_needs_are_asked_together_and_any_order_of_evaluating_them_gives_the_same_step():
    target = [0.3, 0.6, 0.8]
    sequential, evaluated = run(0, target, 5, 0.0)  # the start, its three columns, the first step
    start = {sequential[0]: evaluated[sequential[0]]}
    batch, measure = next_requests([0.5] * 3, 0, start, canon)
    assert batch == sequential[1:4] and not measure
    for p in reversed(batch):
        start[p] = residuals(p, target)
    assert next_requests([0.5] * 3, 0, start, canon)[0] == [sequential[4]]  # a step is asked alone


def test_two_workers_rendering_its_batches_reach_the_answer_in_fewer_rounds_with_the_same_points():
    target = [0.25, 0.7, 0.4, 0.8, 0.35, 0.6]
    x0 = [0.5] * 6
    alone, _ = run(0, target, 60, 0.01, x0)
    evaluated, order = {}, []
    for rounds in range(1, 60):
        batch, _ = next_requests(x0, 0, evaluated, canon)
        for p in batch[:2]:  # one point per worker; the rest of the batch is asked again next round
            evaluated[p] = residuals(p, target)
            order.append(p)
        if any(max(abs(u - v) for u, v in zip(p, target)) <= 0.01 for p in batch[:2]):
            break
    assert order[:len(alone)] == alone[:len(order)]
    assert rounds < len(alone), (rounds, len(alone))


def test_a_step_whose_program_fails_is_retried_shorter():
    """A failed evaluation (None) makes the trust region shrink: the next step goes the same way, less far."""
    target = [0.3, 0.2]
    order, evaluated = run(0, target, 3, 0.0)  # the start and its two probes
    step = next_point([0.5, 0.5], 0, evaluated, canon)
    evaluated[step] = None
    shorter = next_point([0.5, 0.5], 0, evaluated, canon)
    start = np.asarray(order[0])
    assert 0 < np.linalg.norm(np.subtract(shorter, start)) < np.linalg.norm(np.subtract(step, start))
    assert np.dot(np.subtract(shorter, start), np.subtract(step, start)) > 0


def test_a_start_that_fails_restarts_elsewhere():
    order, evaluated = run(0, [0.3, 0.3], 30, 0.01, failing=lambda p: p == (0.5, 0.5))
    assert evaluated[(0.5, 0.5)] is None and len(order) > 1


@pytest.mark.parametrize("dims", [1, 3])
def test_the_score_alone_is_enough_to_make_progress(dims):
    """A task without references gives one residual, √(1 − score): still a descent."""
    target = [0.8] * dims
    evaluated = {}
    best = 1.0
    for _ in range(30):
        p = next_point([0.2] * dims, 1, evaluated, canon)
        err = math.sqrt(sum((a - b) ** 2 for a, b in zip(p, target)) / dims)
        evaluated[p] = [err]
        best = min(best, err)
    assert best < 0.15

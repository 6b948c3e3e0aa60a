"""The parameter search: deterministic, resumable from its history, and better than random search."""

import math
import random

from orchestrator.builders.search import next_point, random_point


def score(x, target):
    return 1 - math.sqrt(sum((a - b) ** 2 for a, b in zip(x, target)) / len(x))


def run(seed, target, budget, threshold):
    history = []
    for _ in range(budget):
        p = next_point([0.5] * len(target), seed, history)
        history.append((p, score(p, target)))
        if history[-1][1] >= threshold:
            break
    return history


def test_same_seed_and_history_give_the_same_next_point():
    target = [0.2, 0.9, 0.4]
    a, b = run(3, target, 12, 2.0), run(3, target, 12, 2.0)
    assert a == b
    assert next_point([0.5] * 3, 3, a[:5]) == a[5][0]


def test_a_foreign_point_in_the_history_restarts_from_the_best_point():
    target = [0.1, 0.1]
    history = run(0, target, 4, 2.0)
    history.append(((0.1, 0.12), score((0.1, 0.12), target)))  # someone else found a great point
    nxt = next_point([0.5, 0.5], 0, history)
    assert max(abs(a - b) for a, b in zip(nxt, (0.1, 0.12))) <= 0.25


def test_pattern_search_needs_far_fewer_evaluations_than_random_search():
    ours, theirs = [], []
    for seed in range(4):
        rng = random.Random(100 + seed)
        target = [rng.random() for _ in range(6)]
        ours.append(len(run(seed, target, 300, 0.93)))
        r = random.Random(seed)
        theirs.append(next((k + 1 for k in range(3000) if score(random_point(6, r), target) >= 0.93), 3000))
    assert sum(theirs) / sum(ours) >= 5

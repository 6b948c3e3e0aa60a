"""Black-box search over the unit cube: adaptive pattern search with line extension.

The search is a generator that yields points and receives their scores. It keeps no state
outside the generator, so `next_point` rebuilds it by replaying the recorded history: the next
point is a pure function of (start, seed, history). That makes resume and hybrid use trivial.

Each coordinate has its own step. Per sweep every coordinate is probed ± its step (order shuffled
by the seed); an improving move is extended along the same direction with a doubled step while it
keeps improving; when both neighbours are worse, one probe goes to the vertex of the parabola
through the three points and the coordinate's step halves. After each sweep its net move is
repeated while it pays (Hooke-Jeeves), which follows ridges no single coordinate can. When every step is below
MIN_STEP the search is in a local optimum and restarts from a random point.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Sequence

__all__ = ["pattern_search", "next_point", "random_point"]

Point = tuple[float, ...]
History = Sequence[tuple[Sequence[float], float]]

INITIAL_STEP = 0.25
MIN_STEP = 1.0 / 32
TOLERANCE = 1e-3


def _clip(x: list[float]) -> Point:
    return tuple(round(min(1.0, max(0.0, v)), 6) for v in x)


def _ask(seen: dict[Point, float], y: Point) -> Generator[Point, float, float]:
    """Score of `y`: remembered, or asked for once (a render is the budget)."""
    if y not in seen:
        seen[y] = yield y
    return seen[y]


def pattern_search(x0: Sequence[float], seed: int) -> Generator[Point, float, None]:
    """Yields points to evaluate; `send` each one's score (higher is better). No point is asked twice."""
    rng = random.Random(seed)
    seen: dict[Point, float] = {}
    best = _clip(list(x0))
    best_f = yield from _ask(seen, best)
    dims = len(best)
    steps = [INITIAL_STEP] * dims

    def moved(x: Point, i: int, delta: float) -> Point:
        y = list(x)
        y[i] += delta
        return _clip(y)

    while True:
        order = [i for i in range(dims) if steps[i] >= MIN_STEP]
        if not order:  # stuck in a local optimum: start again from a random point (the history keeps the best)
            steps = [INITIAL_STEP] * dims
            best = random_point(dims, rng)
            best_f = yield from _ask(seen, best)
            continue
        rng.shuffle(order)
        base = best
        for i in order:
            h = steps[i]
            probes: dict[float, float] = {}
            for sign in rng.sample((1.0, -1.0), 2):
                y = moved(best, i, sign * h)
                if y == best:
                    continue
                probes[sign] = yield from _ask(seen, y)
                if probes[sign] > best_f:
                    best, best_f = y, probes[sign]
                    stride = 2 * h
                    while True:  # extend the successful move while it pays
                        z = moved(best, i, sign * stride)
                        if z == best:
                            break
                        fz = yield from _ask(seen, z)
                        if fz <= best_f:
                            break
                        best, best_f, stride = z, fz, stride * 2
                    break
            else:
                # both neighbours worse: the parabola through them points at the optimum in between
                if len(probes) == 2:
                    curvature = probes[1.0] - 2 * best_f + probes[-1.0]
                    if curvature < 0:
                        t = h * (probes[-1.0] - probes[1.0]) / (2 * curvature)
                        if abs(t) > h / 8:
                            y = moved(best, i, t)
                            fy = yield from _ask(seen, y)
                            if fy > best_f:
                                best, best_f = y, fy
                steps[i] = h / 2
        # Hooke-Jeeves pattern move: repeat the sweep's net move while it pays (follows diagonal ridges)
        direction = [b - a for a, b in zip(base, best)]
        while any(direction):
            z = _clip([v + d for v, d in zip(best, direction)])
            if z == best:
                break
            fz = yield from _ask(seen, z)
            if fz <= best_f:
                break
            best, best_f = z, fz


def next_point(x0: Sequence[float], seed: int, history: History) -> Point:
    """The point to evaluate after `history` (pairs of point, score), replaying the search.

    If the history diverges from what the search would have asked (someone else evaluated a
    point), the search restarts from the best point seen so far, with that point already scored.
    """
    gen = pattern_search(x0, seed)
    want = next(gen)
    for k, (point, score) in enumerate(history):
        if max(abs(a - b) for a, b in zip(point, want)) > TOLERANCE:  # programs round their literals
            upto = history[: k + 1]
            best_point, best_score = max(upto, key=lambda h: h[1])
            gen = pattern_search(best_point, seed + k + 1)
            next(gen)
            want = gen.send(best_score)
            continue
        want = gen.send(score)
    return want


def random_point(dims: int, rng: random.Random) -> Point:
    """A uniform point of the unit cube (the baseline the benchmark compares against)."""
    return _clip([rng.random() for _ in range(dims)])

"""Black-box search over the unit cube: Nelder-Mead with restarts.

The search is a generator that yields points and receives their scores. It keeps no state
outside the generator, so `next_point` rebuilds it by replaying the recorded history: the next
point is a pure function of (start, seed, history). That makes resume and hybrid use trivial.

Nelder-Mead adapts its simplex to the landscape, so it follows diagonal ridges (a wider block
that must also move right) that coordinate searches crawl along. The seed picks the sign of each
initial simplex edge; a collapsed simplex restarts around its best point. No point is asked twice.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Sequence

__all__ = ["nelder_mead", "next_point", "random_point"]

Point = tuple[float, ...]
History = Sequence[tuple[Sequence[float], float]]

INITIAL_STEP = 0.25
MIN_DIAMETER = 1.0 / 64
TOLERANCE = 1e-3


def _clip(x: Sequence[float]) -> Point:
    return tuple(round(min(1.0, max(0.0, v)), 6) for v in x)


def _ask(seen: dict[Point, float], y: Sequence[float]) -> Generator[Point, float, tuple[float, Point]]:
    """(score, point) of `y` clipped: remembered, or asked for once (a render is the budget)."""
    p = _clip(y)
    if p not in seen:
        seen[p] = yield p
    return seen[p], p


def nelder_mead(x0: Sequence[float], seed: int) -> Generator[Point, float, None]:
    """Yields points to evaluate; `send` each one's score (higher is better)."""
    rng = random.Random(seed)
    seen: dict[Point, float] = {}
    n = len(x0)
    start, step = _clip(x0), INITIAL_STEP
    while True:
        asked_at_start = len(seen)
        simplex = [(yield from _ask(seen, start))]
        for i in range(n):
            y = list(start)
            y[i] += step if (rng.random() < 0.5 or y[i] - step < 0) and y[i] + step <= 1 else -step
            simplex.append((yield from _ask(seen, y)))
        while max(abs(a - b) for _, p in simplex for a, b in zip(p, simplex[0][1])) >= MIN_DIAMETER:
            simplex.sort(key=lambda fp: -fp[0])
            (f_best, _), (f_second_worst, _), (f_worst, worst) = simplex[0], simplex[-2], simplex[-1]
            centre = [sum(p[i] for _, p in simplex[:-1]) / n for i in range(n)]
            along = lambda t: [c + t * (c - w) for c, w in zip(centre, worst)]  # noqa: E731
            reflected = yield from _ask(seen, along(1.0))
            if reflected[0] > f_best:
                expanded = yield from _ask(seen, along(2.0))
                simplex[-1] = max(expanded, reflected)
            elif reflected[0] > f_second_worst:
                simplex[-1] = reflected
            else:
                contracted = yield from _ask(seen, along(0.5 if reflected[0] > f_worst else -0.5))
                if contracted[0] > max(f_worst, reflected[0]):
                    simplex[-1] = contracted
                else:  # shrink towards the best point
                    best = simplex[0][1]
                    shrunk = [simplex[0]]
                    for _, p in simplex[1:]:
                        shrunk.append((yield from _ask(seen, [b + 0.5 * (q - b) for b, q in zip(best, p)])))
                    simplex = shrunk
        simplex.sort(key=lambda fp: -fp[0])
        stale = len(seen) == asked_at_start  # this whole round asked nothing new: jump elsewhere
        start, step = (random_point(n, rng) if stale else simplex[0][1]), INITIAL_STEP / 2


def next_point(x0: Sequence[float], seed: int, history: History) -> Point:
    """The point to evaluate after `history` (pairs of point, score), replaying the search.

    If the history diverges from what the search would have asked (someone else evaluated a
    point), the search restarts from the best point seen so far, with that point already scored.
    """
    gen = nelder_mead(x0, seed)
    want = next(gen)
    for k, (point, score) in enumerate(history):
        if max(abs(a - b) for a, b in zip(point, want)) > TOLERANCE:  # programs round their literals
            upto = history[: k + 1]
            best_point, best_score = max(upto, key=lambda h: h[1])
            gen = nelder_mead(best_point, seed + k + 1)
            next(gen)
            want = gen.send(best_score)
            continue
        want = gen.send(score)
    return want


def random_point(dims: int, rng: random.Random) -> Point:
    """A uniform point of the unit cube (the baseline the benchmark compares against)."""
    return _clip([rng.random() for _ in range(dims)])

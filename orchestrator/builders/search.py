"""Black-box search over the unit cube: adaptive pattern search with line extension.

The search is a generator that yields points and receives their scores. It keeps no state
outside the generator, so `next_point` rebuilds it by replaying the recorded history: the next
point is a pure function of (start, seed, history). That makes resume and hybrid use trivial.

Per sweep every coordinate is probed ± step (order shuffled by the seed); an improving move is
extended along the same direction with a doubled step while it keeps improving; a sweep without
improvement halves the step. When the step is tiny the search restarts around the best point.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Sequence

__all__ = ["pattern_search", "next_point", "random_point"]

Point = tuple[float, ...]
History = Sequence[tuple[Sequence[float], float]]

INITIAL_STEP = 0.25
MIN_STEP = 1.0 / 256
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
    step = INITIAL_STEP
    dims = len(best)
    while True:
        improved = False
        order = list(range(dims))
        rng.shuffle(order)
        for i in order:
            for sign in rng.sample((1.0, -1.0), 2):
                probe = list(best)
                probe[i] += sign * step
                y = _clip(probe)
                if y == best:
                    continue
                fy = yield from _ask(seen, y)
                if fy <= best_f:
                    continue
                best, best_f, improved = y, fy, True
                stride = 2 * step
                while True:  # extend the successful move while it pays
                    probe = list(best)
                    probe[i] += sign * stride
                    z = _clip(probe)
                    if z == best:
                        break
                    fz = yield from _ask(seen, z)
                    if fz <= best_f:
                        break
                    best, best_f, stride = z, fz, stride * 2
                break
        if not improved:
            step /= 2
            if step < MIN_STEP:
                step = INITIAL_STEP / 2
                jitter = [v + rng.uniform(-step, step) for v in best]
                y = _clip(jitter)
                fy = yield from _ask(seen, y)
                if fy > best_f:
                    best, best_f = y, fy


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

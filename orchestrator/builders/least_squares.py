"""Bounded least squares over measured residuals: the parametric builder's search.

The loop renders one program at a time, while `scipy.optimize.least_squares` (trust-region
reflective, bounds = the unit cube of the `# param` ranges) wants to call a function. We invert
that by replay: every proposal re-runs the optimizer from the start, answering each point it
asks from the evaluations recorded so far, and the first point nobody has evaluated is the
proposal (the optimizer is interrupted there). So the next point is a pure function of
(start, seed, evaluations): resume, and replays of a checkpoint, propose exactly what an
uninterrupted run would have.

- Jacobian: forward differences at the start (one render per dimension, step `FD_STEP`),
  then Broyden rank-one updates from every later evaluation at least `MIN_SECANT` away, so a
  step costs one render. Shorter secants are skipped: below a pixel of movement, residuals
  change by quantisation noise, and a secant through noise wrecks the Jacobian (the next steps
  shrink to nothing).
- Evaluations are looked up by value, not by order: an evaluation made by another attempt of
  the run (same program family) answers the optimizer just as well. What the optimizer needs
  whatever the answers, the rendered columns of a difference Jacobian, is asked as one batch
  (`next_requests`), so the run's attempts render them at once (orchestrator.builders.siblings).
- Measured differences (`next_requests(measured=…)`): a parameter that moves geometry has its
  column from the worker's measurements of its probes on both sides of the point (program
  executed, geometry projected: ms, no render): the geometric rows differenced, the rows only pixels know
  left to Broyden. At every new anchor those rows are measured afresh, so the geometry's
  Jacobian is exact wherever the search goes, not only along the steps it took. A
  parameter whose probe moves no geometry (a colour, a light) is rendered as before, and once a
  measurement has shown that, it is not measured again at later anchors. The measurements an anchor
  needs are asked together, for one worker call. Measurements are recorded like
  evaluations, so the search stays a pure function of what was recorded.
- A Jacobian recalled from a similar past run (orchestrator.warm_start) replaces the differences at
  the first start: the search steps from its first render on. That first run of the optimizer is
  short (`PRIOR_NFEV`): when the borrowed Jacobian misleads, the search restarts from the best
  point with differences of its own, as it would have begun.
- A failed program answers NaN (trf shrinks its step). When the optimizer stops, it restarts
  from the best point with fresh differences there; from a seeded perturbation of it when
  the best point has had its differences taken already.
- `jump` (the colour solve, orchestrator.builders.colour_solve): once the differences at a run's
  start are known, it may move the start to a point it computes from the evaluations the replay
  has answered so far (a pure function of them, so replays agree); the run then begins there with
  those differences as its Jacobian, so the jump costs one render, not a new set of differences.
  The jump is asked again with that render among the evaluations (up to MAX_JUMPS), and the run
  keeps the dimensions the jumps moved within JUMP_HOLD of where they put them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import least_squares

__all__ = ["Point", "next_point", "next_requests", "random_point", "FD_STEP"]

Point = tuple[float, ...]
Canon = Callable[[Sequence[float]], Point]  # a unit-cube point as the program will hold it (rounded)
Jump = Callable[[Sequence[Point], Point], Point | None]  # (points answered so far, start) → a better start

FD_STEP = 0.06  # of the unit range: moves a silhouette edge a few pixels at 128², above quantisation
MIN_SECANT = FD_STEP / 2
MAX_NFEV = 40  # function calls (answered or not) per optimizer run before a restart
PRIOR_NFEV = 5  # the same with a recalled Jacobian
MAX_RESTARTS = 40
RESTART_SPREAD = 0.12
JUMP_HOLD = 0.03  # how far the run after a jump may move the dimensions the jump set
MAX_JUMPS = 3  # jumps in a row at a run's start, each refitted with the one before's render


class _Ask(Exception):
    """The optimizer wants a point nobody has evaluated: that is the proposal (`measure`: its geometry suffices).
    It comes with every other point its anchor still needs (`batch`, `point` first): measurements for one
    worker call, or the rendered columns of a Jacobian for the run's attempts to render at once."""

    def __init__(self, point: Point, measure: bool = False, batch: Sequence[Point] = ()) -> None:
        self.measure = measure
        self.batch = list(batch) or [point]


class _Replay:
    """The optimizer's function and Jacobian, answered from recorded evaluations."""

    def __init__(self, canon: Canon, evaluated: Mapping[Point, Sequence[float] | None], size: int, seed: int,
                 measured: Mapping[Point, Sequence[float] | None] | None = None, prior: np.ndarray | None = None) -> None:
        self.canon, self.evaluated = canon, evaluated
        self.measured = measured
        self.size, self.seed = size, seed
        self.prior = prior  # a recalled Jacobian, used once: at the first start
        self.jacobian: np.ndarray | None = None
        self.anchor: tuple[np.ndarray, np.ndarray] | None = None
        self.differenced: set[Point] = set()  # points whose differences this replay has taken
        self.seen: list[Point] = []  # evaluated points answered to the optimizer, in order
        self.still = _still_dims(measured) if measured is not None else set()

    def value(self, p: Point) -> np.ndarray:
        """The residuals of `p`: recorded, NaN for a failure; raise _Ask otherwise."""
        if p in self.evaluated:
            self.seen.append(p)
            r = self.evaluated[p]
            return np.full(self.size, np.nan) if r is None else np.asarray(r, float)
        raise _Ask(p)

    def fun(self, x: np.ndarray) -> np.ndarray:
        p = self.canon(x)
        r = self.value(p)
        if self.jacobian is not None and self.anchor is not None and np.isfinite(r).all():
            s = np.asarray(p) - self.anchor[0]
            if (ss := float(s @ s)) >= MIN_SECANT**2:  # Broyden's good update: secant condition along s
                self.jacobian += np.outer(r - self.anchor[1] - self.jacobian @ s, s) / ss
        return r

    def jac(self, x: np.ndarray) -> np.ndarray:
        p = self.canon(x)
        f = self.value(p)  # trf asks the Jacobian only where the residuals are known and finite
        if self.jacobian is None and self.prior is not None:
            self.jacobian, self.prior = self.prior.copy(), None
        elif self.jacobian is None:
            self.jacobian = self.differences(p, f)
            self.differenced.add(p)
        elif self.measured is not None:
            self.remeasure(p)
        self.anchor = (np.asarray(p), np.asarray(f, float))
        return self.jacobian.copy()

    def remeasure(self, p: Point) -> None:
        """At a new anchor, the geometric rows of the geometric columns measured afresh (a few ms each, no render):
        exact where Broyden's updates only know the directions stepped along; the other rows keep Broyden's."""
        assert self.jacobian is not None and self.measured is not None
        pairs = self.probes(p)
        for i, pair in enumerate(pairs):
            if pair[0] == p or i in self.still:
                continue
            if (need := self._unmeasured(p, pairs, range(len(pairs)))):
                raise _Ask(need[0], measure=True, batch=need)
            if (column := self.measured_column(p, pair, i)) is not None:
                known = np.isfinite(column)
                self.jacobian[known, i] = column[known]

    def probes(self, p: Point) -> list[tuple[Point, Point]]:
        """Per dimension, the forward-difference point and its mirror (a probe rounded back onto p is skipped).
        The side tried first is a pure function of (seed, dimension), so every replay asks the same probes."""
        out = []
        for i in range(len(p)):
            sign = 1.0 if random.Random(f"{self.seed}:{i}").random() < 0.5 else -1.0
            if not 0.0 <= p[i] + sign * FD_STEP <= 1.0:
                sign = -sign
            first, second = list(p), list(p)
            first[i] += sign * FD_STEP
            second[i] -= sign * FD_STEP
            out.append((self.canon(first), self.canon(np.clip(second, 0.0, 1.0))))
        return out

    def _unmeasured(self, p: Point, pairs: list[tuple[Point, Point]], dims: Sequence[int]) -> list[Point]:
        """The measurements the columns `dims` at p still need (p itself, each dimension's two sides), in the
        order the loops over them would ask them one by one."""
        assert self.measured is not None
        need: list[Point] = []
        for i in dims:
            if pairs[i][0] != p and i not in self.still:
                need += [q for q in (p, *pairs[i]) if q not in self.measured and q not in need]
        return need

    def measured_column(self, p: Point, pair: tuple[Point, Point], i: int) -> np.ndarray | None:
        """Dimension i's geometric column at p from measurements: central (both sides measured, p between them),
        else forward; NaN for the rows only a render knows. At a kink a forward difference depends on the side
        the seed tried: three equal balls are all the widest, so shrinking one leaves the width alone while
        growing it widens the subject, and on the snowman the search grew whichever ball its seed had probed on
        the growing side (the middle one: it ended at 0.63 against 0.78 with central columns). Central columns at
        every anchor, not only where a search starts, cost a probe more per geometric parameter and anchor (a few
        ms each): at the start only, the snowman fell from 0.915 to 0.603."""
        assert self.measured is not None
        first, mirror = pair
        both = mirror != p and self.measured[first] is not None and self.measured[mirror] is not None
        a, b = (mirror, first) if both else (p, first)
        return _geometric_column(self.measured[a], self.measured[b], b[i] - a[i])

    def differences(self, p: Point, f: np.ndarray) -> np.ndarray:
        """Forward (or central, when both sides were evaluated) differences at p, asking what is missing."""
        columns: list[np.ndarray | None] = []
        wanted: tuple[list[Point], list[Point]] = ([], [])  # first sides, then mirrors (central differences)
        pairs = self.probes(p)
        rendered = [any(q != p and self.evaluated.get(q) is not None for q in pair) for pair in pairs]
        for i, pair in enumerate(pairs):
            usable = [(q, self.evaluated[q]) for q in pair if q != p and self.evaluated.get(q) is not None]
            self.seen += [q for q, _ in usable]
            if usable:
                columns.append(sum((np.asarray(r, float) - f) / (q[i] - p[i]) for q, r in usable) / len(usable))
                continue
            if self.measured is not None and pair[0] != p and i not in self.still:  # the geometry's column, measured
                # both ends measured alike (a render sees less than the scene holds)
                if (need := self._unmeasured(p, pairs, [j for j in range(len(pairs)) if not rendered[j]])):
                    raise _Ask(need[0], measure=True, batch=need)
                if (column := self.measured_column(p, pair, i)) is not None:
                    columns.append(np.nan_to_num(column))  # the rows only a render knows: 0, Broyden fills them
                    continue
            columns.append(None)
            for side, q in zip(wanted, pair):
                if q != p and q not in self.evaluated:
                    side.append(q)
        if any(c is None for c in columns) and (asks := wanted[0] or wanted[1]):
            raise _Ask(asks[0], batch=asks)  # every missing column at once (a mirror: its first side failed)
        return np.stack([np.zeros(self.size) if c is None else c for c in columns], axis=1)


def _still_dims(measured: Mapping[Point, Sequence[float] | None]) -> set[int]:
    """Dimensions that two measurements differing in them alone found to move no geometry (a colour, a light).
    Measuring them again at another anchor would find the same and render their column anyway, so they
    are not measured again: an anchor then costs a probe per parameter that moves geometry."""
    still: set[int] = set()
    points = [p for p, v in measured.items() if v is not None]
    for i in range(len(points[0]) if points else 0):
        rest: dict[Point, list[Point]] = {}
        for p in points:
            rest.setdefault(p[:i] + p[i + 1:], []).append(p)
        if any(_geometric_column(measured[a], measured[b], b[i] - a[i]) is None
               for group in rest.values() for a, b in zip(group, group[1:])):
            still.add(i)
    return still


def _geometric_column(at: Sequence[float] | None, probe: Sequence[float] | None, step: float) -> np.ndarray | None:
    """The Jacobian column of a parameter from two measurements (`step` apart in it): the rows both know
    differenced, NaN for the rows only a render knows (Broyden's updates fill them in). None when either
    failed, or the parameter moves no geometry (a colour, a light): that column needs a render."""
    if at is None or probe is None:
        return None
    a, b = np.asarray(at, float), np.asarray(probe, float)
    known = np.isfinite(a) & np.isfinite(b)
    column = np.full_like(a, np.nan)
    column[known] = (b[known] - a[known]) / step
    return column if np.abs(column[known]).max(initial=0.0) * abs(step) > 1e-9 else None


def next_point(x0: Sequence[float], seed: int, evaluated: Mapping[Point, Sequence[float] | None], canon: Canon,
               jump: Jump | None = None, jacobian: Sequence[Sequence[float]] | None = None) -> Point:
    """The next point to render, given every evaluation so far (point → residual vector, None = failed).

    Residual vectors must all have one length (use a shorter, common vector when they do not).
    `jacobian` (residuals × unit-cube dimensions), recalled from a similar run, saves the first differences.
    """
    return next_requests(x0, seed, evaluated, canon, jump=jump, jacobian=jacobian)[0][0]


def next_requests(x0: Sequence[float], seed: int, evaluated: Mapping[Point, Sequence[float] | None], canon: Canon,
                  measured: Mapping[Point, Sequence[float] | None] | None = None, jump: Jump | None = None,
                  jacobian: Sequence[Sequence[float]] | None = None) -> tuple[list[Point], bool]:
    """(the next points, whether measuring their geometry suffices): the first is the next to evaluate, the others
    what its anchor needs besides, in the order they would be asked one by one. With `measured` (point → residual
    vector whose rows only a render can know are NaN; None = the measurement failed), the Jacobian's columns of
    the parameters that move geometry are taken from measurements, not renders; without it, all are rendered."""
    size = len(next((r for r in evaluated.values() if r is not None), [0.0]))
    prior = np.asarray(jacobian, float) if jacobian else None
    replay = _Replay(canon, evaluated, size, seed, measured,
                     prior if prior is not None and prior.shape == (size, len(x0)) else None)
    start = canon(x0)
    restarts = random.Random(seed * 7919 + 1)
    try:
        for _ in range(MAX_RESTARTS):
            if start in evaluated and evaluated[start] is None:
                start = _perturb(canon, start, restarts)
                continue
            replay.value(start)  # asks for the start itself first
            bounds: tuple[Any, Any] = (0.0, 1.0)
            nfev = PRIOR_NFEV if replay.prior is not None else MAX_NFEV  # a borrowed Jacobian gets a short run
            if jump is not None:
                replay.jac(np.asarray(start, float))  # the differences at the start (asks the missing probes)
                origin = start
                for _ in range(MAX_JUMPS):  # each jump's render refits the next (a far point pins its model down)
                    to = jump(replay.seen, start)
                    if to is None or to == start or evaluated.get(to, ()) is None:
                        break
                    bounds, start = _held(origin, to), to  # the run begins there with the origin's Jacobian
                    replay.value(start)
            least_squares(replay.fun, np.asarray(start, float), jac=replay.jac, bounds=bounds, method="trf",
                          max_nfev=nfev, xtol=1e-3, ftol=1e-4, gtol=1e-8, x_scale=1.0)
            replay.anchor, replay.jacobian = None, None
            best = _best(evaluated, start)
            start = best if best not in replay.differenced else _perturb(canon, best, restarts)
    except _Ask as ask:
        return ask.batch, ask.measure
    rng = random.Random(seed + len(evaluated))  # every restart ended on known points: anywhere new
    for _ in range(1000):
        if (p := canon([rng.random() for _ in x0])) not in evaluated:
            return [p], False
    return [p], False


def _held(start: Point, to: Point) -> tuple[np.ndarray, np.ndarray]:
    """Bounds that keep the dimensions a jump moved within JUMP_HOLD of where it put them: its model
    (colour: linear in RGB) is better there than the Jacobian's, linear in the residuals; the next
    restart's jump refines them."""
    moved = np.asarray(start) != np.asarray(to)
    lo = np.where(moved, np.clip(np.asarray(to) - JUMP_HOLD, 0.0, 1.0), 0.0)
    hi = np.where(moved, np.clip(np.asarray(to) + JUMP_HOLD, 0.0, 1.0), 1.0)
    return lo, np.maximum(hi, lo + 1e-6)


def _best(evaluated: Mapping[Point, Sequence[float] | None], fallback: Point) -> Point:
    scored = [(float(np.dot(r, r)), p) for p, r in evaluated.items() if r is not None]
    return min(scored)[1] if scored else fallback


def _perturb(canon: Canon, p: Point, rng: random.Random) -> Point:
    return canon([min(1.0, max(0.0, v + rng.gauss(0.0, RESTART_SPREAD))) for v in p])


def random_point(dims: int, rng: random.Random) -> Point:
    """A uniform point of the unit cube (the baseline the benchmark compares against)."""
    return tuple(round(rng.random(), 6) for _ in range(dims))

"""The offline builder: fits a program's `# param` literals to the measured residuals.

The program is the task's start program (or, inside hybrid, the best program so far). Each
evaluated member of its family (same skeleton) contributes one residual vector: every view's
`ViewResiduals.vector()` (box edges, centroid, size, colour: harness.residuals) and its
pixel loss on a 3×3 grid (`PIXEL_WEIGHT`), the blueprint residuals in metres ÷ span when the task
has plans (`BLUEPRINT_WEIGHT`, orchestrator.blueprint_loop), plus the score's
shortfall `SCORE_WEIGHT·√(1 − score)`, which carries what the residuals cannot see (SSIM, edges,
sentinel penalties, a VLM's judgement; for a task without references it is the only entry).
`orchestrator.builders.least_squares` turns those into the next parameter vector, a pure
function of the search seed, the evaluations and the recorded probes, so resume and replays pick
up exactly where they were. A probe is a parameter set the worker executed and measured without
rendering (`Workbench.measure`): the Jacobian columns of parameters that move geometry come from
probes (ms), only the others (colours, lights) from renders; the step records them (`probes`).
Colour triples are solved rather than searched (`jump`: orchestrator.builders.colour_solve,
fitted to the subjects' measured ΔLab of the evaluations the search has seen).

Attempts of one run share one search: each proposal takes a ticket (orchestrator.builders.siblings),
and is either formed from every evaluation so far, in ticket order, or taken from the batch the last
one formed (the points the search needs whatever their results, such as a Jacobian's rendered
columns, which two workers then render at once). Which attempt evaluates which point depends on
timing; which points the run evaluates does not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from harness.report import ExecutionReport
from harness.vision_types import ViewMetrics
from orchestrator.blueprint_loop import BLUEPRINT_WEIGHT
from orchestrator.builders import colour_solve
from orchestrator.builders.interface import BuildContext, Proposal
from harness.measure_types import MeasuredRun, SceneMeasure
from harness.residuals import NAMED, VECTOR_NAMES, geometry_residuals, geometry_vector, profile_residuals
from orchestrator.builders.least_squares import Point, next_requests
from orchestrator.errors import SearchConverged, TaskError
from orchestrator.memory import IterationStep, Probe
from orchestrator.params import Param, apply_values, find_params, skeleton

__all__ = ["ParametricBuilder", "propose_measured", "measured_vector", "from_unit", "residual_vector",
           "SCORE_WEIGHT"]

MAX_PROBES = 64
"""Measurements per proposal at most (each a few ms; a search asks one per parameter that moves geometry)."""

SCORE_WEIGHT = 0.05
"""√(1 − score) is 0.3 at a 0.9 score: weighted to about a 2 % edge shift, a tie-breaker beside the residuals."""

PIXEL_WEIGHT = 1.5
"""Each view also contributes its pixel loss, as PIXEL_WEIGHT/3·√loss per cell of a 3×3 grid, so the
sum of squares contains the pixel loss a person would judge by, and where in the frame it is. The
named residuals steer (they say which way); these terms arbitrate where they mislead: a grey
subject half lost against a grey floor, a dark side against a black sky, a thin pole the
silhouette drops. Measured over the example tasks at 2 attempts × their iterations (cold, seed 0):
without them the snowman ended 1–2× better than its start; the grid instead of one term per view
took red_block from 13–21× to 27–35× and the mug from 2× to 2–4×. Since the search runs in a fixed
order (orchestrator.builders.siblings) with central geometric columns, the weight was measured
again: 3 leaves the snowman at 0.780 (its sun's shading outweighs the balls' profile and the
middle and top balls swap sizes) and 6 at 0.718; 1.5 brings it to 0.915, and every example
reaches its threshold (the table 0.899, the lowest margin)."""


def from_unit(params: list[Param], point: Sequence[float]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    i = 0
    for p in params:
        out[p.name] = [p.lo + point[i + k] * (p.hi - p.lo) for k in range(p.dims)]
        i += p.dims
    return out


def _key(params: list[Param], values: dict[str, list[float]]) -> Point:
    """The unit-cube point of `values` as the program will hold them (clipped, 4 decimals or integers)."""
    out: list[float] = []
    for p in params:
        for v, is_int in zip(values[p.name], p.is_int):
            v = min(p.hi, max(p.lo, v))
            out.append(((round(v) if is_int else round(v, 4)) - p.lo) / (p.hi - p.lo))
    return tuple(out)


def residual_vector(step: IterationStep, with_residuals: bool) -> list[float] | None:
    """What the search minimises for one evaluated step; None when its program failed to run."""
    if not step.ran:
        return None
    shortfall = [SCORE_WEIGHT * math.sqrt(max(0.0, 1.0 - step.score)) if with_residuals
                 else math.sqrt(max(0.0, 1.0 - step.score))]
    plans = [BLUEPRINT_WEIGHT * x for x in step.blueprint.vector] if step.blueprint is not None else []
    if not with_residuals or (step.compare is None and not plans):
        return shortfall
    views = sorted(step.compare.views.items()) if step.compare is not None else []
    return [x for _, m in views
            for x in [*(m.residuals.vector() if m.residuals else []), *_pixel_terms(m)]] + plans + shortfall


def _pixel_terms(m: ViewMetrics) -> list[float]:
    """PIXEL_WEIGHT·√loss per cell of the 3×3 grid (their squares sum to PIXEL_WEIGHT²·pixel_loss)."""
    cells = m.pixel_loss_grid or [m.pixel_loss] * 9
    return [PIXEL_WEIGHT / 3 * math.sqrt(g) for g in cells]


def _search(base_code: str, steps: list[IterationStep], seed: int, probes: Sequence[Probe] | None,
            jacobian: Sequence[Sequence[float]] | None = None) -> tuple[list[dict[str, list[float]]], bool]:
    """(the next parameter values, whether measuring their geometry suffices), the next first, then what the
    search's anchor needs besides (least_squares.next_requests); `probes` None: render every point;
    `jacobian`: recalled from a similar run (orchestrator.warm_start), ignored when its shape differs."""
    params = find_params(base_code)
    family = skeleton(base_code)
    mine = [s for s in steps if s.params is not None and s.code and s.execution is not None and skeleton(s.code) == family]

    def canon(x: Sequence[float]) -> Point:
        return _key(params, from_unit(params, x))

    vectors = {id(s): residual_vector(s, with_residuals=True) for s in mine}
    measured: dict[Point, list[float] | None] | None = None
    if len({len(v) for v in vectors.values() if v is not None}) > 1:  # views came and went: the score alone
        vectors = {id(s): residual_vector(s, with_residuals=False) for s in mine}
    elif probes is not None and _measurable(mine):
        start = {p.name: p.value for p in params}
        measured = {_key(params, pr.params): None if pr.vector is None else [math.nan if v is None else v for v in pr.vector]
                    for pr in probes if _same_shape(pr.params, start)}
    evaluated = {_key(params, s.params): vectors[id(s)] for s in mine if s.params is not None}  # (for the type checker)
    start = {p.name: p.value for p in params}
    colours = colour_solve.colour_dims(params)
    observed = {_key(params, s.params): _colour_observation(s) for s in mine if s.params is not None and s.ran}

    def jump(seen: Sequence[Point], at: Point) -> Point | None:  # the colour solve, from what the search has seen
        return colour_solve.solve(colours, {p: observed[p] for p in set(seen) if observed.get(p)}, at, canon,
                                  list(observed))  # near one of these: that one (no near-duplicate render)

    points, measure = next_requests(_key(params, start), seed, evaluated, canon, measured,
                                    jump=jump if colours else None, jacobian=jacobian)
    return [from_unit(params, point) for point in points], measure


def _colour_observation(step: IterationStep) -> colour_solve.ColourObservation:
    views = step.compare.views.items() if step.compare is not None else ()
    return {v: (r.dL, r.da, r.db) for v, m in views if (r := m.residuals) is not None and r.status == "ok"
            and r.dL is not None and r.da is not None and r.db is not None}


def _measurable(steps: list[IterationStep]) -> bool:
    """Some evaluation measured its render from the scene: probes can be differenced against it."""
    return any(m.residuals is not None and m.residuals.measured_by == "scene"
               for s in steps if s.compare is not None for m in s.compare.views.values())


def measured_vector(measure: SceneMeasure, steps: list[IterationStep]) -> list[float | None]:
    """A probe's residual vector in residual_vector's layout: the geometric entries of every view measured from the
    scene (against the reference outline the vision server reported), None for what only a render knows."""
    template = next(s.compare for s in reversed(steps) if s.compare is not None and s.ran)
    out: list[float | None] = []
    for view, m in sorted(template.views.items()):
        r, got = m.residuals, measure.views.get(view)
        known = (r is not None and r.measured_by == "scene" and r.reference_box is not None
                 and got is not None and got.subject is not None and got.subject.width > 0 and got.subject.height > 0)
        head: list[float | None] = (geometry_vector(geometry_residuals(got.subject, r.reference_box))  # type: ignore[arg-type,union-attr]
                                    if known else [None] * 8)
        profile = profile_residuals(got.profile, r.reference_profile) if known else None  # type: ignore[union-attr]
        out += head + [None] * (len(NAMED) - 8) + (profile or [None] * (len(VECTOR_NAMES) - len(NAMED))) + [None] * 9
    return out + [None]


def _proposal(base_code: str, values: dict[str, list[float]], builder: str, probes: list[Probe]) -> Proposal:
    code = apply_values(base_code, values)
    rounded = {p.name: p.value for p in find_params(code)}  # as rounded into the program
    plan = "Set " + ", ".join(f"{k}={[round(x, 4) for x in v] if len(v) > 1 else round(v[0], 4)}" for k, v in rounded.items())
    if probes:
        plan += f" (after measuring {len(probes)} parameter set(s) without rendering)"
    return Proposal(builder=builder, code=code, plan=plan, raw=plan, params=rounded, probes=probes)


async def propose_measured(base_code: str, ctx: BuildContext, builder: str = "parametric") -> Proposal:
    """The next member of `base_code`'s family to render, from every evaluation of the run's shared search: taken
    from the batch the last proposal formed (orchestrator.builders.siblings), or formed here. The columns of
    parameters that move geometry are measured on the leased scene (program executed, geometry projected: no
    render) and recorded as the step's probes, the measurements an anchor needs in one worker call; without a
    scene to measure on, every column is rendered."""
    view = await ctx.shared()
    if view is None:
        raise SearchConverged(f"the run's search reached {ctx.config.threshold} before proposal {ctx.iteration}")
    if view.queued is not None:
        return view.queued
    family = skeleton(base_code)
    probes = [p for s in view.steps if s.code and skeleton(s.code) == family for p in s.probes]
    mine: list[Probe] = []
    while True:
        asked, measure = _search(base_code, view.steps, ctx.config.seed,
                                 None if ctx.workbench is None else probes + mine, ctx.jacobian)
        if not measure or len(mine) >= MAX_PROBES or ctx.workbench is None:
            break
        codes = [apply_values(base_code, v) for v in asked[:MAX_PROBES - len(mine)]]
        try:
            runs: list[MeasuredRun | None] = list(await ctx.workbench.measure(codes))
        except Exception:  # noqa: BLE001 - the worker died or hung under a probe (the pool restores the scene)
            runs = [None] * len(codes)  # failed measurements: the search renders those columns instead
        for code, run in zip(codes, runs):
            vector = measured_vector(run.measure, view.steps) if run is not None and run.measure is not None else None
            mine.append(Probe(params={p.name: p.value for p in find_params(code)}, vector=vector))
    batch = [_proposal(base_code, v, builder, [] if i else mine) for i, v in enumerate(asked[:1] if measure else asked)]
    await ctx.offer(batch[1:])
    return batch[0]


def fitted_jacobian(base_code: str, steps: list[IterationStep]) -> list[list[float]] | None:
    """The residuals' Jacobian over the unit cube of `base_code`'s params, fitted (affine least squares) to a
    run's evaluations of that program family; None when they do not determine it. A similar task's search
    may start from it instead of taking differences (orchestrator.warm_start).

    Renders know every row, probes (geometry measured without a render) the geometric rows: each row is fitted
    to the points that know it. A measured search renders too few points to span the geometry (its geometric
    columns are probes), so renders alone left every such run without a Jacobian to lend; a row that its
    points do not span is fitted with the least norm (0 where nothing was seen)."""
    params = find_params(base_code)
    family = skeleton(base_code)
    shape = {p.name: p.value for p in params}
    points: list[tuple[Point, list[float | None]]] = []
    for s in steps:
        if s.params is None or not s.code or skeleton(s.code) != family or not _same_shape(s.params, shape):
            continue
        if (v := residual_vector(s, with_residuals=True)) is not None:
            points.append((_key(params, s.params), list(v)))
        points += [(_key(params, p.params), p.vector) for p in s.probes
                   if p.vector is not None and _same_shape(p.params, shape)]
    sizes = {len(v) for _, v in points}
    dims = sum(p.dims for p in params)
    if len(sizes) != 1 or len(points) < dims + 1:
        return None
    x = np.asarray([p for p, _ in points], float)
    r = np.asarray([[np.nan if e is None else e for e in v] for _, v in points], float)
    if np.linalg.matrix_rank(x - x.mean(axis=0)) < dims:
        return None
    jacobian = np.zeros((r.shape[1], dims))
    known = np.isfinite(r)
    for pattern in {tuple(col) for col in known.T}:  # rows known at the same points are fitted together
        at, rows = np.asarray(pattern), np.all(known == np.asarray(pattern)[:, None], axis=0)
        if at.sum() < 2:
            continue
        xc, rc = x[at] - x[at].mean(axis=0), r[np.ix_(at, rows)] - r[np.ix_(at, rows)].mean(axis=0)
        solution, *_ = np.linalg.lstsq(xc, rc, rcond=None)  # xc @ J.T ≈ rc, least norm where unspanned
        jacobian[rows] = solution.T
    return [[round(float(v), 6) for v in row] for row in jacobian]


def _same_shape(a: dict[str, list[float]], b: dict[str, list[float]]) -> bool:
    return set(a) == set(b) and all(len(a[k]) == len(b[k]) for k in a)


class ParametricBuilder:
    """Works alone and offline; needs a start program with `# param` markers."""

    name = "parametric"

    async def propose(self, ctx: BuildContext) -> Proposal:
        code = ctx.task.start_code
        if not code or not find_params(code):
            raise TaskError(f"task {ctx.task.name!r}: the parametric builder needs [start].program with `# param` literals")
        return await propose_measured(code, ctx)

    async def fix(self, ctx: BuildContext, code: str, report: ExecutionReport, number: int = 1) -> Proposal | None:
        return None  # a parameter vector that breaks the program simply scores 0

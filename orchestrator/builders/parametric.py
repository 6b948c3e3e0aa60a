"""The offline builder: fits a program's `# param` literals to the measured residuals.

The program is the task's start program (or, inside hybrid, the best program so far). Each
evaluated member of its family (same skeleton) contributes one residual vector: every view's
`ViewResiduals.vector()` (box edges, centroid, size, colour: harness.residuals) and its
pixel loss on a 3×3 grid (`PIXEL_WEIGHT`), the blueprint residuals in metres ÷ span when the task
has plans (`BLUEPRINT_WEIGHT`, orchestrator.blueprint_loop), plus the score's
shortfall `SCORE_WEIGHT·√(1 − score)`, which carries what the residuals cannot see (SSIM, edges,
sentinel penalties, a VLM's judgement; for a task without references it is the only entry).
`orchestrator.builders.least_squares` turns those into the next parameter vector, a pure
function of the search seed and the evaluations, so resume and replays pick up exactly where
they were.

Attempts of one run share evaluations: the run's siblings (BuildContext.siblings) add their
evaluated steps of the same family, and their in-flight proposals are not proposed again, so
two attempts on two workers advance one search twice as fast instead of repeating each other.
Which attempt evaluates which point then depends on timing; the search's next point given the
evaluations does not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.report import ExecutionReport
from harness.vision_types import ViewMetrics
from orchestrator.blueprint_loop import BLUEPRINT_WEIGHT
from orchestrator.builders.interface import BuildContext, Proposal
from orchestrator.builders.least_squares import Point, next_point
from orchestrator.errors import TaskError
from orchestrator.memory import IterationStep
from orchestrator.params import Param, apply_values, find_params, skeleton

__all__ = ["ParametricBuilder", "propose_params", "from_unit", "residual_vector", "SCORE_WEIGHT"]

SCORE_WEIGHT = 0.05
"""√(1 − score) is 0.3 at a 0.9 score: weighted to about a 2 % edge shift, a tie-breaker beside the residuals."""

PIXEL_WEIGHT = 3.0
"""Each view also contributes its pixel loss, as PIXEL_WEIGHT/3·√loss per cell of a 3×3 grid, so the
sum of squares contains the pixel loss a person would judge by, and where in the frame it is. The
named residuals steer (they say which way); these terms arbitrate where they mislead: a grey
subject half lost against a grey floor, a dark side against a black sky, a thin pole the
silhouette drops. Measured over the five example tasks at 2 attempts × 8 iterations (bench/loop.py
`examples`): without them the snowman ends 1–2× better than its start; one term per view of weight
1 changes little, 3 brings the snowman to 4–7× without losing red_block or the table, 10 drowns the
directions (the table falls back to 3×); the grid instead of one term per view takes red_block
from 13–21× to 27–35× and the mug from 2× to 2–4×."""


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


def propose_params(base_code: str, steps: list[IterationStep], seed: int, builder: str = "parametric",
                   pending: Sequence[dict[str, list[float]]] = ()) -> Proposal:
    """The next member of `base_code`'s family, given every evaluated step (this attempt's and its
    siblings') and the parameter sets in flight elsewhere."""
    params = find_params(base_code)
    family = skeleton(base_code)
    mine = [s for s in steps if s.params is not None and s.code and s.execution is not None and skeleton(s.code) == family]

    def canon(x: Sequence[float]) -> Point:
        return _key(params, from_unit(params, x))

    vectors = {id(s): residual_vector(s, with_residuals=True) for s in mine}
    if len({len(v) for v in vectors.values() if v is not None}) > 1:  # views came and went: the score alone
        vectors = {id(s): residual_vector(s, with_residuals=False) for s in mine}
    evaluated = {_key(params, s.params): vectors[id(s)] for s in mine if s.params is not None}  # (for the type checker)
    start = {p.name: p.value for p in params}
    point = next_point(_key(params, start), seed, evaluated, canon, [_key(params, v) for v in pending if _same_shape(v, start)])
    code = apply_values(base_code, from_unit(params, point))
    values = {p.name: p.value for p in find_params(code)}  # as rounded into the program
    plan = "Set " + ", ".join(f"{k}={[round(x, 4) for x in v] if len(v) > 1 else round(v[0], 4)}" for k, v in values.items())
    return Proposal(builder=builder, code=code, plan=plan, raw=plan, params=values)


def _same_shape(a: dict[str, list[float]], b: dict[str, list[float]]) -> bool:
    return set(a) == set(b) and all(len(a[k]) == len(b[k]) for k in a)


class ParametricBuilder:
    """Works alone and offline; needs a start program with `# param` markers."""

    name = "parametric"

    async def propose(self, ctx: BuildContext) -> Proposal:
        code = ctx.task.start_code
        if not code or not find_params(code):
            raise TaskError(f"task {ctx.task.name!r}: the parametric builder needs [start].program with `# param` literals")
        return propose_params(code, ctx.shared_steps(), ctx.config.seed, pending=ctx.in_flight())

    async def fix(self, ctx: BuildContext, code: str, report: ExecutionReport, number: int = 1) -> Proposal | None:
        return None  # a parameter vector that breaks the program simply scores 0

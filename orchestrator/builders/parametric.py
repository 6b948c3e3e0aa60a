"""The offline builder: tunes a program's `# param` literals by black-box search on the score.

The program is the task's start program (or, inside hybrid, the best program so far). The next
parameter vector is a pure function of the search seed and the scored history of that program's
family (same skeleton), so resume and replays pick up exactly where they were.
"""

from __future__ import annotations

from harness.report import ExecutionReport
from orchestrator.builders.interface import BuildContext, Proposal
from orchestrator.builders.search import next_point
from orchestrator.errors import TaskError
from orchestrator.memory import IterationStep
from orchestrator.params import Param, apply_values, find_params, skeleton

__all__ = ["ParametricBuilder", "propose_params", "to_unit", "from_unit"]


def to_unit(params: list[Param], values: dict[str, list[float]]) -> list[float]:
    return [(v - p.lo) / (p.hi - p.lo) for p in params for v in values[p.name]]


def from_unit(params: list[Param], point: tuple[float, ...]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    i = 0
    for p in params:
        out[p.name] = [p.lo + point[i + k] * (p.hi - p.lo) for k in range(p.dims)]
        i += p.dims
    return out


def propose_params(base_code: str, steps: list[IterationStep], seed: int, builder: str = "parametric") -> Proposal:
    """The next member of `base_code`'s family, given the scored steps so far."""
    params = find_params(base_code)
    family = skeleton(base_code)
    history = [(to_unit(params, s.params), s.score) for s in steps
               if s.params is not None and s.code and skeleton(s.code) == family and s.execution is not None]
    x0 = history[0][0] if history else to_unit(params, {p.name: p.value for p in params})
    values = from_unit(params, next_point(x0, seed, history))
    code = apply_values(base_code, values)
    values = {p.name: p.value for p in find_params(code)}  # as rounded into the program
    plan = "Set " + ", ".join(f"{k}={[round(x, 4) for x in v] if len(v) > 1 else round(v[0], 4)}" for k, v in values.items())
    return Proposal(builder=builder, code=code, plan=plan, raw=plan, params=values)


class ParametricBuilder:
    """Works alone and offline; needs a start program with `# param` markers."""

    name = "parametric"

    async def propose(self, ctx: BuildContext) -> Proposal:
        code = ctx.task.start_code
        if not code or not find_params(code):
            raise TaskError(f"task {ctx.task.name!r}: the parametric builder needs [start].program with `# param` literals")
        return propose_params(code, ctx.memory.steps, ctx.strategy.seed)

    async def fix(self, ctx: BuildContext, code: str, report: ExecutionReport, number: int = 1) -> Proposal | None:
        return None  # a parameter vector that breaks the program simply scores 0

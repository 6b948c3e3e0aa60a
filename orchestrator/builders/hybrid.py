"""Hybrid: the model writes or edits the program, the parametric search refines its `# param` literals.

The model speaks first, and again after every `hybrid_refine` parametric iterations (or when the
best program has no parameters to tune); in between the search tunes the best program so far.
"""

from __future__ import annotations

from harness.report import ExecutionReport
from orchestrator.builders.interface import BuildContext, Builder, Proposal
from orchestrator.builders.parametric import propose_measured
from orchestrator.params import ParamError, find_params

__all__ = ["HybridBuilder"]


class HybridBuilder:
    name = "hybrid"

    def __init__(self, llm: Builder) -> None:
        self.llm = llm

    def _tunable(self, code: str) -> bool:
        try:
            return bool(find_params(code))
        except ParamError:
            return False

    async def propose(self, ctx: BuildContext) -> Proposal:
        steps = ctx.memory.steps
        best = ctx.memory.best()
        since_llm = 0
        for step in reversed(steps):
            if step.builder != "parametric":
                break
            since_llm += 1
        if best is None or not self._tunable(best.code) or since_llm >= ctx.config.hybrid_refine:
            return await self.llm.propose(ctx)
        return await propose_measured(best.code, ctx)

    async def fix(self, ctx: BuildContext, code: str, report: ExecutionReport, number: int = 1) -> Proposal | None:
        return await self.llm.fix(ctx, code, report, number)

"""A model builder backed by the offline `parametric` builder its chain lists (MOD-03).

When every remote model of the builder role fails (retries, backoff and cooldowns spent: see
harness.model_roles), the parametric builder proposes instead, for the rest of the attempt, and
the proposal records the degradation. Without a start program that has `# param` literals the
parametric builder has nothing to tune: the failure then stops the attempt as before, saying so.
"""

from __future__ import annotations

from harness.report import ExecutionReport
from orchestrator.builders.interface import BuildContext, Builder, Proposal
from orchestrator.builders.parametric import ParametricBuilder
from orchestrator.degradation import Degradation
from orchestrator.errors import BuilderUnavailable
from orchestrator.params import find_params

__all__ = ["OfflineFallback"]


class OfflineFallback:
    def __init__(self, primary: Builder, offline: ParametricBuilder | None = None) -> None:
        self.primary = primary
        self.offline = offline or ParametricBuilder()
        self.name = primary.name
        self._down = False  # the remote chain failed in this attempt (after a resume: the steps say so)

    def _degraded(self, ctx: BuildContext) -> bool:
        return self._down or ctx.memory.degraded("builder")

    async def propose(self, ctx: BuildContext) -> Proposal:
        if self._degraded(ctx):
            return await self.offline.propose(ctx)
        try:
            return await self.primary.propose(ctx)
        except BuilderUnavailable as e:
            return await self._take_over(ctx, e)

    async def fix(self, ctx: BuildContext, code: str, report: ExecutionReport, number: int = 1) -> Proposal | None:
        """Once degraded nothing edits code; a chain failing mid-fix hands the iteration to the search."""
        if self._degraded(ctx):
            return None
        try:
            return await self.primary.fix(ctx, code, report, number)
        except BuilderUnavailable as e:
            return await self._take_over(ctx, e)

    async def _take_over(self, ctx: BuildContext, failure: BuilderUnavailable) -> Proposal:
        if not (ctx.task.start_code and find_params(ctx.task.start_code)):
            stop = BuilderUnavailable(f"{failure}; the offline `parametric` entry of the builder chain cannot take "
                                      "over: the task has no start program with `# param` literals")
            stop.log = failure.log
            raise stop from failure
        self._down = True
        proposal = await self.offline.propose(ctx)
        calls = ([failure.log] if failure.log is not None else []) + proposal.calls
        return proposal.model_copy(update={
            "calls": calls, "degradations": [Degradation(role="builder", backend="parametric", reason=str(failure))]})

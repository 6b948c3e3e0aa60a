"""The optional `planner` role: before a model builder writes code, another model writes the iteration's plan.

Why a separate role: a strong, slower model can reason about what to change next while a cheaper
or code-tuned model writes the program. The plan goes to the builder as the last message of its
prompt and becomes the iteration's plan.txt. A plan helps but is not needed: when every planner
model fails, the builder goes on without one and the failed call stays in the iteration's log.
"""

from __future__ import annotations

import time

from harness.report import ExecutionReport
from harness.vision_types import CallLog
from orchestrator.builders.interface import BuildContext, Builder, Proposal
from orchestrator.builders.llm import Completer, task_messages
from orchestrator.context_fit import fit_prompt
from orchestrator.prompts import render

__all__ = ["PlannedBuilder", "ROLE"]

ROLE = "planner"


class PlannedBuilder:
    """`inner` (a model builder) with the planner's plan in its prompt."""

    def __init__(self, inner: Builder, models: Completer) -> None:
        self.inner = inner
        self.models = models
        self.name = inner.name

    async def propose(self, ctx: BuildContext) -> Proposal:
        started = time.perf_counter()
        best = ctx.memory.best()
        tail = [{"role": "user", "content": render(
            "planner_next", iteration=ctx.iteration, best_score=f"{best.score:.3f}" if best else "none")}]
        try:
            plan, log = await self.models.complete(ROLE, fit_prompt(self.models, ROLE, task_messages(ctx), ctx.memory, tail))
        except Exception as e:  # every planner model failed: the builder writes without a plan
            plan, log = "", getattr(e, "log", None)
        seconds = time.perf_counter() - started
        proposal = await self.inner.propose(ctx.model_copy(update={"plan": plan.strip()}))
        calls: list[CallLog] = ([log] if log is not None else []) + proposal.calls
        return proposal.model_copy(update={"plan": plan.strip() or proposal.plan, "calls": calls,
                                           "model_s": proposal.model_s + seconds})

    async def fix(self, ctx: BuildContext, code: str, report: ExecutionReport, number: int = 1) -> Proposal | None:
        return await self.inner.fix(ctx, code, report, number)

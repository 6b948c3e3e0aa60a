"""The one narrow interface every builder sits behind: propose a program, or fix a failed one.

Builders write code and never score it. They see the attempt's memory (typed steps with the
evaluators' feedback) and return a `Proposal`; a tool-using builder may act on the leased scene
through the context's `Workbench` first, which records what it does as that code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from harness.report import ExecutionReport
from orchestrator.builders.proposal import Proposal
from orchestrator.builders.siblings import SharedView, Siblings
from orchestrator.memory import AttemptMemory
from orchestrator.prompts import render
from orchestrator.state import RunConfig, Strategy
from orchestrator.task import Task
from orchestrator.workbench import Workbench

__all__ = ["BuildContext", "Proposal", "Builder", "Siblings"]


class BuildContext(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    task: Task
    config: RunConfig
    strategy: Strategy
    memory: AttemptMemory
    iteration: int
    examples: list[str] = Field(default_factory=list, description="programs that scored well on similar past tasks")
    example_renders: dict[str, Path] = Field(default_factory=dict, description="view → a render of the recalled example")
    siblings: Siblings | None = Field(None, description="the run's other attempts; None when the attempt runs alone")
    workbench: Workbench | None = Field(None, description="the leased scene, for a builder that acts through tools")
    jacobian: list[list[float]] | None = Field(None, description="a recalled run's residual Jacobian for the parametric "
                                                                "search's first step (orchestrator.warm_start)")
    plan: str = Field("", description="the planner role's plan for this iteration (builders.planned), when one is set")

    def plan_messages(self) -> list[dict[str, str]]:
        """The planner's plan as the prompt's last message; none without a plan."""
        return [{"role": "user", "content": render("builder_plan", plan=self.plan)}] if self.plan else []

    async def shared(self) -> SharedView | None:
        """This proposal's ticket in the run's shared search (orchestrator.builders.siblings); alone, the attempt's
        own steps to form it from. None: the evaluations reached the threshold, the search is done."""
        if self.siblings is None:
            return SharedView(-1, list(self.memory.steps))
        return await self.siblings.take(self.strategy.index)

    async def offer(self, rest: list[Proposal]) -> None:
        """The rest of the batch this proposal formed, for the run's other attempts (or this one's next iterations)."""
        if self.siblings is not None:  # alone, the next proposal forms the same batch without the point evaluated
            await self.siblings.offer(self.strategy.index, rest)


class Builder(Protocol):
    name: str

    async def propose(self, ctx: BuildContext) -> Proposal:
        """The next program to run from the attempt's baseline."""
        ...

    async def fix(self, ctx: BuildContext, code: str, report: ExecutionReport, number: int = 1) -> Proposal | None:
        """The smallest change that makes `code` run, or None when this builder cannot edit code."""
        ...

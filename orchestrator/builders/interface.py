"""The one narrow interface every builder sits behind: propose a program, or fix a failed one.

Builders only write code; they never execute it and never score it. They see the attempt's
memory (typed steps with the evaluators' feedback) and return a `Proposal`.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from harness.report import ExecutionReport
from harness.vision_types import CallLog
from orchestrator.memory import AttemptMemory
from orchestrator.state import RunConfig, Strategy
from orchestrator.task import Task

__all__ = ["BuildContext", "Proposal", "Builder"]


class BuildContext(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    task: Task
    config: RunConfig
    strategy: Strategy
    memory: AttemptMemory
    iteration: int
    examples: list[str] = Field(default_factory=list, description="programs that scored well on similar past tasks")


class Proposal(BaseModel):
    builder: str
    code: str
    plan: str = ""
    raw: str = ""
    params: dict[str, list[float]] | None = None
    calls: list[CallLog] = Field(default_factory=list)
    model_s: float = 0.0


class Builder(Protocol):
    name: str

    async def propose(self, ctx: BuildContext) -> Proposal:
        """The next program to run from the attempt's baseline."""
        ...

    async def fix(self, ctx: BuildContext, code: str, report: ExecutionReport, number: int = 1) -> Proposal | None:
        """The smallest change that makes `code` run, or None when this builder cannot edit code."""
        ...

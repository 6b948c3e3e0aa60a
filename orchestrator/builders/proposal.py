"""What a builder returns: the next program, and what it took to write it.

Its own module so the run's shared search (orchestrator.builders.siblings) can hold a batch of
proposals without importing the builder interface that hands it out."""

from __future__ import annotations

from pydantic import BaseModel, Field

from harness.vision_types import CallLog
from orchestrator.degradation import Degradation
from orchestrator.memory import Probe, ToolCallRecord

__all__ = ["Proposal"]


class Proposal(BaseModel):
    builder: str
    code: str
    plan: str = ""
    raw: str = ""
    params: dict[str, list[float]] | None = None
    calls: list[CallLog] = Field(default_factory=list)
    model_s: float = 0.0
    degradations: list[Degradation] = Field(default_factory=list, description="an offline backend answered instead")
    tool_calls: list[ToolCallRecord] = Field(default_factory=list, description="a tool-using builder's calls")
    probes: list[Probe] = Field(default_factory=list, description="geometry measured without a render on the way")

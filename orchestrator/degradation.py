"""Degradations: an offline backend took over a role because every remote model of it failed (MOD-03).

The user opts in by listing the backend in the role's chain (`builder = ["openai/x", "parametric"]`,
`verifier = ["openai/vlm", "metrics"]`). The step where it happened carries the record, so the
checkpoint, run.json, get_run and report.html all say when and why the run degraded; once a role
degraded in an attempt it stays offline for the rest of that attempt.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from orchestrator.memory import IterationStep
    from orchestrator.state import AttemptState

__all__ = ["Degradation", "degraded", "degradations", "VERIFIER_UNAVAILABLE_TAG"]

VERIFIER_UNAVAILABLE_TAG = "[VERIFIER_UNAVAILABLE]"
"""How the vision server says every verifier model failed (servers.viewport_vision.errors)."""


class Degradation(BaseModel):
    role: Literal["builder", "verifier"]
    backend: str = Field(description="the offline backend that took over: parametric or metrics")
    reason: str = Field(description="the remote models' failure")


def degraded(steps: Iterable[IterationStep], role: str) -> bool:
    """Some step of these already fell back to the offline backend for `role`."""
    return any(d.role == role for s in steps for d in s.degradations)


def degradations(states: dict[int, AttemptState]) -> list[dict[str, object]]:
    """Every degradation of a run, where it happened: run.json's `degraded`, get_run's and the report's."""
    return [{"attempt": state.index, "iteration": step.index, **d.model_dump()}
            for state in states.values() for step in state.memory.steps for d in step.degradations]

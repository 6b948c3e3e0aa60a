"""Degradations: an offline backend took over a role because every remote model of it failed (MOD-03).

The user opts in by listing the backend in the role's chain (`builder = ["openai/x", "parametric"]`,
`verifier = ["openai/vlm", "metrics"]`). The step where it happened carries the record, so the
checkpoint, run.json, get_run and report.html all say when and why the run degraded; once a role
degraded in an attempt it stays offline for the rest of that attempt.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["Degradation", "VERIFIER_UNAVAILABLE_TAG"]

VERIFIER_UNAVAILABLE_TAG = "[VERIFIER_UNAVAILABLE]"
"""How the vision server says every verifier model failed (servers.viewport_vision.errors)."""


class Degradation(BaseModel):
    role: Literal["builder", "verifier"]
    backend: str = Field(description="the offline backend that took over: parametric or metrics")
    reason: str = Field(description="the remote models' failure")


"""What a caller is told about a run (RunStatus, one AttemptView per attempt), and how to read it.

RunService builds these from a run folder or from the coordinator running it; the gateway's tools,
the dashboard and the CLI show them. `live` and `progress` are how a caller tells a run that goes on,
and one that moved on, without knowing which process runs it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from orchestrator.spend import Spend
from orchestrator.state import AttemptState

__all__ = ["GOING_ON", "AttemptView", "RunStatus", "attempt_view", "shared_convergence", "live", "progress"]

GOING_ON = ("running", "starting")  # run.json statuses of a run some process is running


class AttemptView(BaseModel):
    attempt: int
    status: str
    strategy: str
    iterations: int
    best_score: float
    latest_score: float | None = None
    scores: list[float] = Field(default_factory=list)
    latest_renders: dict[str, str] = Field(default_factory=dict, description="view → absolute PNG path")
    error: str | None = None
    note: str | None = Field(None, description="why a converged attempt is below the threshold")


class RunStatus(BaseModel):
    run_id: str
    run_dir: str
    task: str
    status: str = Field(description="running (here when `active`, else in another process), completed, cancelled, "
                                    "timeout, budget (a spend cap was reached, best kept), failed, or interrupted "
                                    "(its process is gone; resumable)")
    active: bool
    builder: str
    verifier: str
    iterations_budget: int
    attempts: list[AttemptView]
    best: dict[str, Any] | None = Field(None, description="attempt, iteration, score, renders (relative paths)")
    best_score: float | None = None
    error: str | None = None
    degraded: list[dict[str, Any]] = Field(default_factory=list, description="where an offline backend took over a "
                                           "role whose remote models all failed: attempt, iteration, role, backend, reason")
    spend: Spend = Field(default_factory=Spend, description="model tokens and cost so far (cost unknown, never "
                                                            "zero, when a model has no price)")
    max_cost_usd: float | None = None
    max_tokens: int | None = None
    forked_from: dict[str, Any] | None = Field(None, description="the run, attempt, iteration and score this run was "
                                                                "forked from (fork_run)")
    models: dict[str, list[str]] = Field(default_factory=dict, description="role → the model chain this run was given")
    models_used: dict[str, list[str]] = Field(default_factory=dict, description="role → the models that actually answered")
    recalled: dict[str, Any] | None = Field(None, description="the past run this one started warm from: run_id, "
                                                             "similarity, why, what was used")


def live(status: RunStatus) -> bool:
    """The run is going on, in this process (`active`) or in another one."""
    return status.active or status.status in GOING_ON


def progress(status: RunStatus) -> tuple[Any, ...]:
    """What changes when a run moves on: its status and each attempt's iterations and state."""
    return status.status, tuple((a.status, a.iterations) for a in status.attempts)


def shared_convergence(state: AttemptState, threshold: float | None) -> str | None:
    """Why an attempt ended converged below the threshold: the run's shared search (orchestrator.builders.siblings)
    reached it on the other attempts' renders. None for any other attempt."""
    if state.status != "converged" or threshold is None or state.best_score >= threshold:
        return None
    return ("The run's attempts share one search: it reached the threshold on the other attempts' renders"
            + (" before it needed this one." if not state.memory.steps else "."))


def attempt_view(state: AttemptState, threshold: float | None) -> AttemptView:
    latest = state.memory.steps[-1] if state.memory.steps else None
    return AttemptView(attempt=state.index, status=state.status, strategy=state.strategy.prompt_variant,
                       iterations=state.done_iterations, best_score=state.best_score,
                       latest_score=latest.score if latest else None, scores=[s.score for s in state.memory.steps],
                       latest_renders=dict(latest.renders) if latest else {}, error=state.error,
                       note=shared_convergence(state, threshold))


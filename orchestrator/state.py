"""The typed state of a run and its attempts: what the checkpoint holds and resume restores."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field

from orchestrator.memory import AttemptMemory, IterationStep
from orchestrator.spend import Spend, spend_of

__all__ = ["degradations", "BuilderKind", "VerifierKind", "AttemptStatus", "RunConfig", "Strategy", "AttemptState", "FINAL_STATUSES",
           "run_spend"]

BuilderKind = Literal["llm", "parametric", "hybrid"]
VerifierKind = Literal["metrics", "vlm", "both"]
AttemptStatus = Literal["pending", "running", "converged", "exhausted", "failed", "cancelled", "timeout", "skipped",
                        "budget"]
# a failed attempt failed on our side (scene, vision, every builder model down): resume tries it again;
# a run that spent its budget stays spent
FINAL_STATUSES: frozenset[str] = frozenset({"converged", "exhausted", "skipped", "budget"})


class RunConfig(BaseModel):
    """How a run spends its budget; task values are defaults, CLI/tool overrides win."""

    builder: BuilderKind = "parametric"
    verifier: VerifierKind = "metrics"
    attempts: int = Field(3, ge=1, le=64)
    iterations: int = Field(5, ge=1, le=1000)
    threshold: float = Field(0.85, ge=0.0, le=1.0)
    timeout_s: float = Field(600.0, gt=0)
    max_cost_usd: float | None = Field(None, gt=0, description="stop the run when its model spend reaches this (USD)")
    max_tokens: int | None = Field(None, gt=0, description="stop the run when its model tokens (in + out) reach this")
    window: int = Field(3, ge=1, le=50)
    seed: int = 0
    fix_retries: int = Field(3, ge=0, le=10)
    tool_calls: int = Field(8, ge=0, le=50, description="tool calls per iteration when the builder model can call "
                                                         "functions; 0 keeps it writing whole programs")
    verifier_looks: int = Field(2, ge=0, le=8, description="extra looks (another angle, a close-up, one object alone) a "
                                                           "VLM verifier that can call tools may take before judging")
    execute_timeout_s: float = Field(60.0, gt=0, le=3600, description="per program run; a hang past it is the code's fault")
    hybrid_refine: int = Field(4, ge=1, description="parametric iterations between llm edits (hybrid)")
    skip_after_success: bool = Field(True, description="attempts not started when another converged are skipped")
    recall: bool = Field(True, description="start warm from the most similar past run (orchestrator.warm_start)")
    models: dict[str, list[str]] = Field(default_factory=dict, description="role → model chain this run uses instead of "
                                         "colossus.toml's (start_run models=, [models] of task.toml, --model)")
    sentinel_error_penalty: float = Field(0.1, ge=0, le=1)
    sentinel_warning_penalty: float = Field(0.02, ge=0, le=1)


class Strategy(BaseModel):
    """What makes attempt i differ from its siblings (strategy.txt)."""

    index: int
    prompt_variant: str = "default"
    prompt_text: str = ""
    seed: int = 0
    model_rotation: int = Field(0, description="the builder chain is rotated by this many places")

    def describe(self) -> str:
        return (f"attempt {self.index}\nprompt variant: {self.prompt_variant}\nparam search seed: {self.seed}\n"
                f"builder chain rotation: {self.model_rotation}\n\n{self.prompt_text}".rstrip() + "\n")


class AttemptState(BaseModel):
    index: int
    strategy: Strategy
    status: AttemptStatus = "pending"
    memory: AttemptMemory = Field(default_factory=AttemptMemory)
    error: str | None = None
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def best(self) -> IterationStep | None:
        return self.memory.best()

    @property
    def best_score(self) -> float:
        best = self.best
        return best.score if best else 0.0

    @property
    def done_iterations(self) -> int:
        return len(self.memory.steps)

    def touch(self) -> None:
        self.started_at = self.started_at or time.time()


def run_spend(states: dict[int, AttemptState]) -> Spend:
    """The run's model spend so far: every call of every attempt's steps."""
    return spend_of(c for s in states.values() for step in s.memory.steps for c in step.calls)


def degradations(states: dict[int, AttemptState]) -> list[dict[str, object]]:
    """Every degradation of a run, where it happened: run.json's `degraded`, get_run's and the report's."""
    return [{"attempt": state.index, "iteration": step.index, **d.model_dump()}
            for state in states.values() for step in state.memory.steps for d in step.degradations]

"""run.json, typed: what a run is and how it stands, the one record service, coordinator, report and
dashboard read (RunFolder.read_run) and write (RunFolder.write_run / update_run, atomic).

Every field has a default, so run folders written by older Colossus versions (fewer keys, a task
given as {"name": ...}) still open; keys this model does not know are kept on rewrite. A record is
written with the keys that were set, so a run.json keeps the shape it had.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.spend import Spend
from orchestrator.state import RunConfig

__all__ = ["RunRecord"]


class RunRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    run_id: str = ""
    task: str = Field("", description="the task's name")
    created_at: float | None = None
    status: str = Field("unknown", description="starting, running, then the coordinator's final status")
    config: RunConfig | None = None
    baseline: str | None = Field(None, description="the task's start baseline")
    baseline_id: str | None = Field(None, description="the pool baseline a task's .blend was imported as")
    isolation: dict[str, str] | None = None
    workers: int | None = None
    source: str | None = Field(None, description="the task.toml the run was started from")
    models: dict[str, list[str]] = Field(default_factory=dict, description="role → model chain")
    owner: dict[str, Any] | None = Field(None, description="the process running it (orchestrator.owner)")
    updated_at: float | None = None
    finished_at: float | None = None
    resumed_at: list[float] = Field(default_factory=list)
    degraded: list[dict[str, Any]] = Field(default_factory=list, description="where an offline backend took over")
    spend: Spend | None = None
    asset: dict[str, Any] | None = Field(None, description="the [finalize] job of the best attempt")
    forked_from: dict[str, Any] | None = Field(None, description="run, attempt, iteration and score it was forked from")
    recalled: dict[str, Any] | None = Field(None, description="the past run it started warm from (orchestrator.warm_start)")

    @field_validator("task", mode="before")
    @classmethod
    def _task_name(cls, value: Any) -> Any:
        """Older run folders name the task as {"name": ...}."""
        return value.get("name", "") if isinstance(value, dict) else value

    def updated(self, **changes: Any) -> RunRecord:
        """This record with `changes` applied and validated (a copy)."""
        return RunRecord.model_validate({**self.to_json(), **changes})

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)

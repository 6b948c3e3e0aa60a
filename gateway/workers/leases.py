"""What the pool knows about a scene (its lease) and how it reports itself.

A lease binds one worker to one scene_id; `restore_point` is the baseline the scene would be
rebuilt from if its worker died: the one it was reset to, one it saved, or its checkpoint
`ckpt-<scene_id>`, saved after each successful execute_code.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from gateway.workers.process_worker import Worker

__all__ = ["EMPTY", "Lease", "WorkerStatus", "PoolStatus", "checkpoint_id"]

EMPTY = "empty"


def checkpoint_id(scene_id: str) -> str:
    return f"ckpt-{scene_id}"


@dataclass(eq=False)
class Lease:
    scene_id: str
    worker: Worker
    restore_point: str
    checkpoint_executes: bool = True  # save a restore point after each successful execute_code
    last_used: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    incidents: list[str] = field(default_factory=list)
    renders: dict[str, Path] = field(default_factory=dict)
    reported: int = 0  # incidents[:reported] already reached a caller

    def unreported(self) -> list[str]:
        """Incidents no caller has been told about (e.g. a worker replaced by the health check), once."""
        fresh, self.reported = self.incidents[self.reported:], len(self.incidents)
        return fresh


class WorkerStatus(BaseModel):
    label: str
    state: str = Field(description="free, warm (free, reset to empty), leased, cleaning, starting or down")
    scene_id: str | None = None
    pid: int | None = None
    node: str | None = Field(None, description="the Ray node the worker's actor runs on (backend 'ray')")
    rss_mb: float | None = None
    memory_guard: str | None = Field(None, description="what holds the memory limit inside the worker (RLIMIT_AS, "
                                                       "a resident-memory watchdog), as the worker reports it")
    generation: int = 0
    error: str | None = None


class PoolStatus(BaseModel):
    size: int
    free: int
    leased: int
    waiting: int
    workers: list[WorkerStatus]

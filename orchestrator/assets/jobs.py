"""Finalize jobs behind handles (`job_id`), like runs: start returns at once, get waits a bounded time.

Used by the gateway's `finalize_asset` / `get_finalize` tools and by RunService when a task asks
for `[finalize] profile`. The workers come from a `WorkerPair` the caller supplies (the gateway
leases two pool scenes), so this module never knows about MCP. Jobs live in this process only.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncContextManager

from pydantic import BaseModel, Field

from orchestrator.assets.pipeline import AssetWorker, FinalizeResult, finalize
from orchestrator.assets.profiles import Profile, load_profile
from orchestrator.assets.source import AssetSource
from orchestrator.errors import AssetError
from orchestrator.waits import MAX_WAIT_S

__all__ = ["AssetJobs", "AssetJobStatus", "WorkerPair"]

WorkerPair = Callable[[], AsyncContextManager[tuple[AssetWorker, AssetWorker]]]  # (stages, fresh checker)


class AssetJobStatus(BaseModel):
    job_id: str
    status: str = Field(description="running, done, failed or cancelled")
    profile: str
    source: str
    out_dir: str
    stage: str | None = Field(None, description="the stage running now")
    progress: float = Field(0.0, description="stages done / stages")
    elapsed_s: float
    result: FinalizeResult | None = None
    error: str | None = None


@dataclass
class _Job:
    status: AssetJobStatus
    started: float = field(default_factory=time.monotonic)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task[FinalizeResult | None] | None = None


class AssetJobs:
    def __init__(self, workers: WorkerPair, runs_dir: Path, profiles_dir: Path | None = None) -> None:
        self.workers = workers
        self.runs_dir = Path(runs_dir)
        self.profiles_dir = profiles_dir
        self._jobs: dict[str, _Job] = {}

    def profile(self, name: str) -> Profile:
        return load_profile(name, self.profiles_dir)

    def out_dir(self, source: AssetSource, profile: Profile) -> Path:
        """runs/<run>/asset/<profile>/ for a run, else runs/assets/<UTC ts>_<name>_<profile>/."""
        if source.run_dir is not None:
            return source.run_dir / "asset" / profile.name
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        return self.runs_dir / "assets" / f"{stamp}_{source.path.stem[:40]}_{profile.name}"

    def start(self, source: AssetSource, profile: Profile, out_dir: Path | None = None) -> str:
        """Start finalizing in the background; returns the job_id."""
        job_id = f"asset-{secrets.token_hex(6)}"
        out = out_dir or self.out_dir(source, profile)
        job = _Job(AssetJobStatus(job_id=job_id, status="running", profile=profile.name, source=str(source.path),
                                  out_dir=str(out), elapsed_s=0.0))
        self._jobs[job_id] = job
        job.task = asyncio.get_running_loop().create_task(self._run(job, source, profile, out), name=job_id)
        return job_id

    async def run(self, source: AssetSource, profile: Profile, out_dir: Path | None = None) -> AssetJobStatus:
        """Finalize and wait for the end (RunService's auto-finalize)."""
        job_id = self.start(source, profile, out_dir)
        await asyncio.shield(self._jobs[job_id].task)
        return self.get_now(job_id)

    async def _run(self, job: _Job, source: AssetSource, profile: Profile, out: Path) -> FinalizeResult | None:
        """The job's task: its outcome lands in the status (failures as `error`), never as an exception."""
        async def progress(stage: str, index: int, total: int) -> None:
            await self._update(job, stage=stage, progress=index / total)

        try:
            async with self.workers() as (worker, checker):
                result = await finalize(source.path, profile, out, worker, checker, name=source.name, progress=progress,
                                        objects=source.objects)
        except asyncio.CancelledError:
            await self._update(job, status="cancelled", stage=None, error=f"cancelled during {job.status.stage or 'start'}: "
                               "nothing was published")
            raise
        except Exception as e:  # noqa: BLE001 - reported through get(); the gateway keeps serving
            await self._update(job, status="failed", stage=None, error=str(e) if isinstance(e, AssetError)
                               else f"{type(e).__name__}: {e}")
            return None
        await self._update(job, status="done", stage=None, progress=1.0, result=result)
        return result

    async def _update(self, job: _Job, **changes: object) -> None:
        async with job.changed:
            job.status = job.status.model_copy(update=changes)
            job.changed.notify_all()

    async def cancel(self, job_id: str) -> AssetJobStatus:
        """Stop a running job and wait for it to end: the worker call under way is abandoned (the worker is
        stopped and restarted, gateway.workers.asset_adapters) and nothing is published; a job that ended
        already, or was publishing (orchestrator.assets.pipeline), keeps its outcome."""
        job = self._jobs.get(job_id)
        if job is not None and job.task is not None and not job.task.done():
            job.task.cancel()
            await asyncio.wait({job.task})
        return self.get_now(job_id)

    def get_now(self, job_id: str) -> AssetJobStatus:
        job = self._jobs.get(job_id)
        if job is None:
            raise AssetError(f"no finalize job {job_id!r} in this gateway (jobs are kept until it stops)")
        return job.status.model_copy(update={"elapsed_s": round(time.monotonic() - job.started, 1)})

    async def get(self, job_id: str, wait_s: float = 0.0) -> AssetJobStatus:
        """The job's status now, or after its next stage change (waiting at most min(wait_s, 45 s))."""
        job = self._jobs.get(job_id)
        if job is not None and wait_s > 0 and job.status.status == "running":
            async with job.changed:
                seen = job.status
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(job.changed.wait_for(lambda: job.status is not seen),
                                           timeout=min(wait_s, MAX_WAIT_S))
        return self.get_now(job_id)

    async def aclose(self) -> None:
        for job in self._jobs.values():
            if job.task is not None and not job.task.done():
                job.task.cancel()
                with contextlib.suppress(BaseException):
                    await job.task

"""RunService: runs as background asyncio tasks behind handles (`run_id`), for the gateway and the CLI.

`start` validates and returns at once; `get` answers immediately or after a bounded wait for the
next completed iteration; `resume` continues a run folder from its checkpoint, also one left by a
killed process; `fork` starts a new run from one iteration of a run folder (orchestrator.fork).
Runs that are not active in this process are read back from their folders; what a caller is told
about a run (RunStatus) is orchestrator.run_status.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.model_choice import check_models
from harness.model_config import ModelConfigError, ModelsConfig
from orchestrator.artifacts import RunFolder
from orchestrator.assets.jobs import AssetJobs
from orchestrator.assets.source import resolve_source
from orchestrator.builders.factory import BuilderFactory
from orchestrator.builders.interface import Builder
from orchestrator.checkpoint import Checkpoint
from orchestrator.coordinator import ISOLATION, Coordinator
from orchestrator.errors import AssetError, OrchestratorError, TaskError
from orchestrator.fork import ForkPoint, fork_point, seed_fork
from orchestrator.memory import IterationStep
from orchestrator.owner import runs_elsewhere
from orchestrator.params import find_params
from orchestrator.recall import RecallStore
from orchestrator.run_record import RunRecord
from orchestrator.run_status import GOING_ON, AttemptView, RunStatus, attempt_view, live, progress
from orchestrator.run_models import models_used
from orchestrator.report import write_report
from orchestrator.scene import SceneProvider, Vision
from orchestrator.state import AttemptState, RunConfig, Strategy, degradations, run_spend
from orchestrator.task import Task, inline_task, load_task
from orchestrator.waits import MAX_WAIT_S
from orchestrator.warm_start import warm_start

__all__ = ["AttemptView", "RunStatus", "RunService", "live"]

ELSEWHERE_POLL_S = 0.25  # how often a run going on in another process is re-read while a caller waits
Listener = Callable[[str, AttemptState, IterationStep], None]


@dataclass
class _Active:
    task: asyncio.Task[Any]
    coordinator: Coordinator
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    version: int = 0


class RunService:
    def __init__(self, provider: SceneProvider | None, vision: Vision | None, runs_dir: Path,
                 models_config: ModelsConfig | None = None, memory_dir: Path | None = None,
                 listener: Listener | None = None,
                 builder_factory: Callable[[RunConfig, Strategy], Builder] | None = None,
                 allowed_roots: list[Path] | None = None, assets: AssetJobs | None = None) -> None:
        """provider and vision may be None for a service that only reads run folders (list, status, report);
        `assets` finalizes the best attempt of a task with `[finalize] profile` when its run ends;
        `builder_factory` replaces the configured builders (the benchmark's random-search baseline);
        inline tasks may name reference images by path only under `allowed_roots` (default: the runs
        directory and the working directory)."""
        self.provider, self.vision = provider, vision
        self.runs_dir = Path(runs_dir)
        self.models_config = models_config or ModelsConfig()
        self.recall = RecallStore(memory_dir or self.runs_dir / ".memory", self.runs_dir)
        self.listener = listener
        self.builder_factory = builder_factory
        self.builders = BuilderFactory(self.models_config)
        self.allowed_roots = allowed_roots if allowed_roots is not None else [self.runs_dir, Path.cwd()]
        self.assets = assets
        self._active: dict[str, _Active] = {}

    # ---- starting ----------------------------------------------------------------------------
    def _task(self, task: Task | str | Path | dict[str, Any]) -> Task:
        if isinstance(task, Task):
            return task
        if isinstance(task, (str, Path)):
            return load_task(task)
        spec = dict(task)
        if "path" in spec:
            return load_task(spec["path"])
        if not spec.get("description"):
            raise TaskError("inline task: description: required")
        return inline_task(spec.pop("description"), spec.pop("references", None),
                           staging_dir=self.runs_dir / ".inline" / f"{time.time_ns()}",
                           allowed_roots=self.allowed_roots, **spec)

    def _config(self, task: Task, overrides: dict[str, Any], defaults: dict[str, Any] | None = None) -> RunConfig:
        """The run's config: `defaults` (the task's budget unless given), then the overrides that are set."""
        # every [budget] key is a RunConfig field of the same name (test_task.py checks it), so none is dropped
        values: dict[str, Any] = dict(defaults) if defaults is not None else task.budget.model_dump()
        values.update({k: v for k, v in overrides.items() if v is not None and k != "models"})
        # the run's chains: the task's [models] (a fork: its source run's), then the ones given here, role by role
        values["models"] = {**(values.get("models") or (task.models if defaults is None else {})),
                            **(overrides.get("models") or {})}
        if "builder" not in values:
            tunable = bool(task.start_code and find_params(task.start_code))
            values["builder"] = "parametric" if tunable else "llm"
        if "verifier" not in values:
            values["verifier"] = "metrics" if task.references or task.blueprint else "vlm"
        try:
            config = RunConfig.model_validate(values)
        except ValueError as e:
            raise TaskError(f"run options: {e}") from None
        self._check(task, config)
        return config

    def _check(self, task: Task, config: RunConfig) -> None:
        where = str(task.source or "inline task")
        try:
            check_models(self.models_config, config.models)
        except ModelConfigError as e:
            raise TaskError(f"{where}: {e}") from None
        models = self.builders.models(config)
        if config.builder == "parametric" and not (task.start_code and find_params(task.start_code)):
            raise TaskError(f"{where}: start.program: the parametric builder needs a start program with `# param` literals")
        if config.builder in ("llm", "hybrid") and not models.has_remote("builder"):
            raise TaskError(f"{where}: builder {config.builder!r} needs the `builder` model role in [models] "
                            "of colossus.toml (or COLOSSUS_MODELS_BUILDER); offline, give the task a start program "
                            "with `# param` literals and use the parametric builder")
        if config.verifier in ("metrics", "both") and not (task.references or task.blueprint):
            raise TaskError(f"{where}: reference: the metrics verifier needs reference images or blueprints")
        if task.finalize.profile is not None:
            if self.assets is None:
                raise TaskError(f"{where}: finalize.profile: this service cannot finalize assets")
            try:
                self.assets.profile(task.finalize.profile)
            except AssetError as e:
                raise TaskError(f"{where}: finalize.profile: {e}") from None

    def plan_start(self, task: Task | str | Path | dict[str, Any], **overrides: Any) -> tuple[Task, RunConfig]:
        """The task and config `start` would run, checked (TaskError), nothing written: callers check
        before they start a pool; a read-only service can plan."""
        task = self._task(task)
        return task, self._config(task, overrides)

    async def start(self, task: Task | str | Path | dict[str, Any], **overrides: Any) -> str:
        """Validate, create the run folder, start the coordinator in the background; returns run_id."""
        if self.provider is None or self.vision is None:
            raise OrchestratorError("this RunService only reads run folders: it has no scene provider or vision")
        task, config = self.plan_start(task, **overrides)
        task, recalled = warm_start(self.recall, task, config)
        folder = RunFolder.create(self.runs_dir, task)
        self._write_new_run(folder, task, config, **({"recalled": recalled} if recalled else {}))
        self._launch(folder, folder.load_task(), config)
        return folder.run_id

    def _write_new_run(self, folder: RunFolder, task: Task, config: RunConfig, **more: Any) -> None:
        assert self.provider is not None
        folder.write_run(RunRecord(
            run_id=folder.run_id, task=task.name, created_at=time.time(), status="starting",
            config=config.model_dump(mode="json"), baseline=task.start.baseline, isolation=ISOLATION,
            workers=self.provider.size, source=str(task.source) if task.source else None,
            models=dict(self.builders.models(config).roles), **more,
        ))

    async def fork(self, run_id: str, attempt: int, iteration: int, **overrides: Any) -> str:
        """A new run whose attempts all begin from that iteration's program and the builder's memory up to
        it; the source run's config, then `overrides` (as `start`'s). Returns the new run_id at once."""
        if self.provider is None or self.vision is None:
            raise OrchestratorError("this RunService only reads run folders: it has no scene provider or vision")
        point, task, config = self.plan_fork(run_id, attempt, iteration, **overrides)
        folder = RunFolder.create(self.runs_dir, task)
        try:
            seed_fork(folder, config, point)
            self._write_new_run(folder, task, config, forked_from=point.origin())
        except BaseException:  # no half-made run folder is left behind
            shutil.rmtree(folder.root, ignore_errors=True)
            raise
        self._launch(folder, folder.load_task(), config)
        return folder.run_id

    def plan_fork(self, run_id: str, attempt: int, iteration: int, **overrides: Any) -> tuple[ForkPoint, Task, RunConfig]:
        """The fork point, task and config `fork` would run, checked; nothing written (see plan_start)."""
        source = RunFolder.open(self.runs_dir, run_id)
        active = self._active.get(run_id)
        states = active.coordinator.states if active is not None else Checkpoint.read(source.root)
        point = fork_point(source, states, attempt, iteration)
        task = source.load_task().model_copy(update={"start_code": point.step.code})
        source_config = source.read_run().config
        return point, task, self._config(task, overrides, defaults=source_config.model_dump() if source_config else {})

    def plan_resume(self, run_id: str) -> tuple[RunFolder, RunRecord, RunConfig]:
        """The folder, run.json and config `resume` would continue, checked; nothing written (see plan_start)."""
        if run_id in self._active and not self._active[run_id].task.done():
            raise OrchestratorError(f"run {run_id} is already running")
        folder = RunFolder.open(self.runs_dir, run_id)
        record = folder.read_run()
        if record.status in GOING_ON and runs_elsewhere(record.owner):
            raise OrchestratorError(f"run {run_id} is running in another process (pid {record.owner['pid']}): "
                                    "stop it there, or wait for it to end")
        if record.config is None:
            raise OrchestratorError(f"run {run_id} cannot be resumed: its run.json has no config")
        return folder, record, record.config

    async def resume(self, run_id: str) -> str:
        """Continue a run from its checkpoint: completed iterations are kept, unfinished attempts go on."""
        folder, record, config = self.plan_resume(run_id)
        folder.write_run(record.updated(resumed_at=[*record.resumed_at, time.time()]))
        self._launch(folder, folder.load_task(), config)
        return run_id

    def _launch(self, folder: RunFolder, task: Task, config: RunConfig) -> None:
        if self.provider is None or self.vision is None:
            raise OrchestratorError("this RunService only reads run folders: it has no scene provider or vision")
        run_id = folder.run_id
        models = self.builders.models(config)
        coordinator = Coordinator(
            folder=folder, task=task, config=config, provider=self.provider, vision=self.vision,
            builder_for=lambda strategy: (self.builder_factory or self.builders.make_builder)(config, strategy),
            summarizer=self.builders.roles(0, config) if config.builder != "parametric" and models.has_remote("summarizer") else None,
            recall=self.recall, on_step=lambda state, step: self._stepped(run_id, state, step),
            offline_verifier=models.offline_fallback("verifier") == "metrics")
        active = _Active(task=asyncio.get_running_loop().create_task(self._run_and_finalize(coordinator, folder, task),
                                                                      name=f"run {run_id}"),
                         coordinator=coordinator)
        active.task.add_done_callback(lambda _t: asyncio.ensure_future(self._notify(run_id)))
        self._active[run_id] = active

    async def _run_and_finalize(self, coordinator: Coordinator, folder: RunFolder, task: Task) -> Any:
        """The run, then (when the task has `[finalize] profile`) its best attempt as an asset, noted in run.json."""
        result = await coordinator.run()
        if task.finalize.profile is None or self.assets is None or folder.read_best() is None:
            return result
        try:
            source = resolve_source(folder.root).model_copy(update={"objects": task.finalize.objects})
            job = await self.assets.run(source, self.assets.profile(task.finalize.profile))
            asset = job.model_dump(mode="json", include={"job_id", "status", "profile", "out_dir", "error"})
            asset["valid"] = job.result.valid if job.result else None
        except AssetError as e:
            asset = {"status": "failed", "profile": task.finalize.profile, "error": str(e)}
        folder.write_run(folder.read_run().updated(asset=asset))
        self.write_report(folder.run_id)  # with the asset's card
        return result

    def _stepped(self, run_id: str, state: AttemptState, step: IterationStep) -> None:
        if self.listener is not None:
            self.listener(run_id, state, step)
        asyncio.ensure_future(self._notify(run_id))

    async def _notify(self, run_id: str) -> None:
        active = self._active.get(run_id)
        if active is not None:
            async with active.changed:
                active.version += 1
                active.changed.notify_all()

    # ---- reading -----------------------------------------------------------------------------
    async def get(self, run_id: str, wait_s: float = 0.0) -> RunStatus:
        """The run's status now, or after the next completed iteration (waiting at most min(wait_s, 45 s)).

        A run going on in another process (`colossus run` beside a gateway) is watched through its folder."""
        active = self._active.get(run_id)
        if active is not None and wait_s > 0 and not active.task.done():
            async with active.changed:
                seen = active.version
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(active.changed.wait_for(lambda: active.version != seen),
                                           timeout=min(wait_s, MAX_WAIT_S))
        status = self._status(run_id)
        if active is None and wait_s > 0 and live(status):
            deadline, seen = time.monotonic() + min(wait_s, MAX_WAIT_S), progress(status)
            while progress(status) == seen and time.monotonic() < deadline:
                await asyncio.sleep(min(ELSEWHERE_POLL_S, max(0.0, deadline - time.monotonic())))
                status = self._status(run_id)
        return status

    async def wait(self, run_id: str) -> RunStatus:
        """Until the run's background task ends (CLI use; hosts poll `get`)."""
        active = self._active.get(run_id)
        if active is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(active.task)
        return self._status(run_id)

    def list(self) -> list[RunStatus]:
        if not self.runs_dir.is_dir():
            return []
        ids = sorted((p.name for p in self.runs_dir.iterdir() if (p / "run.json").is_file()), reverse=True)
        return [self._status(i) for i in ids]

    def status(self, run_id: str) -> RunStatus:
        """The run's status now (no waiting)."""
        return self._status(run_id)

    def write_report(self, run_id: str) -> Path:
        """Rewrite report.html from the run's checkpoint; returns its path."""
        folder = RunFolder.open(self.runs_dir, run_id)
        states, best = Checkpoint.read(folder.root), folder.read_best()
        config = folder.read_run().config
        threshold = config.threshold if config else None
        write_report(folder, folder.load_task(), states, best, threshold)
        return folder.root / "report.html"

    async def aclose(self) -> None:
        """Cancel the runs this service is running (they stay resumable)."""
        for run_id, active in list(self._active.items()):
            if not active.task.done():
                await self.cancel(run_id)

    async def cancel(self, run_id: str) -> RunStatus:
        """Stop the run; completed iterations stay checkpointed and it can be resumed."""
        active = self._active.get(run_id)
        if active is None or active.task.done():
            RunFolder.open(self.runs_dir, run_id)  # RunNotFound for unknown ids
            return self._status(run_id)
        active.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await active.task
        return self._status(run_id)

    def _status(self, run_id: str) -> RunStatus:
        folder = RunFolder.open(self.runs_dir, run_id)
        record = folder.read_run()
        active = self._active.get(run_id)
        running = active is not None and not active.task.done()
        states = active.coordinator.states if active is not None else Checkpoint.read(folder.root)
        best = folder.read_best()
        if running:
            best = active.coordinator.best_doc(with_files=False) or best
        status = record.status
        if not running and status in GOING_ON and not runs_elsewhere(record.owner):
            status = "interrupted"
        error = None
        if active is not None and active.task.done() and not active.task.cancelled() and active.task.exception():
            error = f"{type(active.task.exception()).__name__}: {active.task.exception()}"
            status = "failed"
        config = record.config
        return RunStatus(
            run_id=run_id, run_dir=str(folder.root), task=record.task, status=status, active=running,
            builder=config.builder if config else "?", verifier=config.verifier if config else "?",
            iterations_budget=config.iterations if config else 0,
            attempts=[attempt_view(s, config.threshold if config else None) for s in states.values()],
            best=best, best_score=best["score"] if best else None, error=error, degraded=degradations(states),
            spend=run_spend(states), max_cost_usd=config.max_cost_usd if config else None,
            max_tokens=config.max_tokens if config else None, forked_from=record.forked_from, models=record.models,
            models_used=models_used(states),
            recalled={k: v for k, v in record.recalled.items() if k != "jacobian"} if record.recalled else None)

"""The coordinator: N attempts of one run in parallel on the pool, then the best of N.

Each attempt leases one worker (leases queue when there are fewer workers than attempts) and
varies its strategy: prompt variant, parameter-search seed, builder-chain rotation. The run stops
per attempt at the threshold or the iteration budget, as a whole at the wall-clock timeout or on
cancellation; attempts not yet started when another converged are skipped. Resume restarts every
attempt that did not finish, from its checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.artifacts import RunFolder, write_json
from orchestrator.builders.interface import Builder
from orchestrator.builders.siblings import Siblings
from orchestrator.checkpoint import Checkpoint
from orchestrator.live_report import LiveReport
from orchestrator.loop import AttemptContext, run_attempt
from orchestrator.memory import IterationStep
from orchestrator.owner import this_process
from orchestrator.prompts import strategy_variants
from orchestrator.reference_prep import prepare_references
from orchestrator.recall import RecallStore, entry_from_folder
from orchestrator.report import write_report
from orchestrator.scene import SceneProvider, Vision
from orchestrator.spend import budget_exceeded
from orchestrator.state import FINAL_STATUSES, AttemptState, RunConfig, Strategy, degradations, run_spend
from orchestrator.task import RUN_BASELINE, Task

__all__ = ["Coordinator", "make_strategy", "ISOLATION"]

ISOLATION = {
    "mode": "baseline_reload",
    "detail": "each attempt leases one pool worker exclusively; every iteration resets that worker to the "
              "task's baseline (open_mainfile, milliseconds) and runs a complete program, so attempts never "
              "share scene state and an iteration depends only on its code",
}
HARD_STOP_GRACE_S = 60.0
log = logging.getLogger(__name__)

StepCallback = Callable[[AttemptState, IterationStep], None]


def loop_renders(task: Task) -> Task:
    """The task as the loop renders it: Cycles at the `preview` tier of the GPU presets unless the task's
    [render] names a tier (`production`); `final` is for renders outside the loop."""
    if task.render.tier is not None:
        return task
    return task.model_copy(update={"render": task.render.model_copy(update={"tier": "preview"})})


def make_strategy(index: int, seed: int) -> Strategy:
    """Attempt i takes prompt variant i mod n, seed `seed + i`, and rotates a multi-model chain by i."""
    variants = list(strategy_variants().items())
    name, text = variants[index % len(variants)]
    return Strategy(index=index, prompt_variant=name, prompt_text=text, seed=seed + index, model_rotation=index)


@dataclass
class Coordinator:
    """Runs one run folder to completion; `builder_for(strategy)` makes each attempt's builder."""

    folder: RunFolder
    task: Task
    config: RunConfig
    provider: SceneProvider
    vision: Vision
    builder_for: Callable[[Strategy], Builder]
    summarizer: Any = None
    recall: RecallStore | None = None
    on_step: StepCallback | None = None
    offline_verifier: bool = False  # the verifier chain lists `metrics` (loop.AttemptContext)
    states: dict[int, AttemptState] = field(default_factory=dict)
    _baseline_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _pool_baseline: str | None = None  # the id a .blend baseline was imported under
    _slots: asyncio.Semaphore = field(init=False)  # attempts queue here, not in the pool's bounded wait
    siblings: Siblings = field(init=False)  # the attempts as their builders see them (shared evaluations)
    live: LiveReport = field(init=False)  # report.html while the run goes on

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(max(1, self.provider.size))
        self.live = LiveReport(self.folder, self.task, self.config.threshold,
                               lambda: (self.states, self.best_doc(with_files=False)))

    async def run(self) -> dict[str, Any]:
        """Run (or resume) every unfinished attempt; returns summary.json's content."""
        checkpoint = Checkpoint(self.folder.root)
        saved = checkpoint.load()
        self.states = {i: saved.get(i) or AttemptState(index=i, strategy=make_strategy(i, self.config.seed))
                       for i in range(self.config.attempts)}
        self.siblings = Siblings(self.states, self.config.threshold)
        started = time.time()
        deadline = started + self.config.timeout_s
        examples, example_renders = self._examples()
        status = "running"
        self._update_run(status=status, owner=this_process())
        try:
            async with asyncio.timeout(self.config.timeout_s + HARD_STOP_GRACE_S):
                await asyncio.gather(*(self._attempt(s, checkpoint, deadline, examples, example_renders)
                                       for s in self.states.values() if s.status not in FINAL_STATUSES))
            statuses = {s.status for s in self.states.values()}
            status = ("timeout" if "timeout" in statuses else "budget" if "budget" in statuses
                      else "failed" if statuses == {"failed"} else "completed")
        except TimeoutError:
            status = "timeout"
            for s in self.states.values():
                if s.status == "cancelled":
                    s.status = "timeout"
                    checkpoint.save(s)
        except asyncio.CancelledError:
            status = "cancelled"
            raise
        except Exception:  # ours, unforeseen: run.json must not go on saying "running"
            status = "failed"
            raise
        finally:
            live = self.live.close()
            summary = self._finish(status, started, live)
            checkpoint.close()
        return summary

    async def _attempt(self, state: AttemptState, checkpoint: Checkpoint, deadline: float, examples: list[str],
                       example_renders: dict[str, Path]) -> None:
        try:
            task = loop_renders(await self._pool_task())
            async with self._slots, self.provider.lease(task.start.baseline) as scene:
                converged = any(s.status == "converged" for s in self.states.values())
                if converged and self.config.skip_after_success and not state.memory.steps:
                    state.status = "skipped"
                    checkpoint.save(state)
                    self.folder.write_attempt(state)
                    return
                await self._save_baseline(scene, task.start.baseline)
                async with self._baseline_lock:  # once per run: the references beside their background renders
                    task = await prepare_references(task, scene, self.folder.root, self.config.execute_timeout_s)
                ctx = AttemptContext(task=task, config=self.config, folder=self.folder, scene=scene,
                                     vision=self.vision, builder=self.builder_for(state.strategy),
                                     checkpoint=checkpoint, deadline=deadline, summarizer=self.summarizer,
                                     examples=examples, example_renders=example_renders, on_step=self._stepped,
                                     jacobian=(self.folder.read_run().recalled or {}).get("jacobian"),
                                     siblings=self.siblings,
                                     offline_verifier=self.offline_verifier, over_budget=self._over_budget())
                await run_attempt(ctx, state)
        except asyncio.CancelledError:
            state.status = "cancelled" if state.status in ("running", "pending") else state.status
            checkpoint.save(state)
            self.folder.write_attempt(state)
            raise
        except Exception as e:  # a lease or setup failure on our side: this attempt fails, the others go on
            state.status, state.error = "failed", f"{type(e).__name__}: {e}"
            checkpoint.save(state)
            self.folder.write_attempt(state)

    async def _pool_task(self) -> Task:
        """The task as the pool knows it: a .blend baseline is imported once and replaced by its baseline id.

        The run folder already holds that .blend as baseline.blend (RunFolder.create copies it).
        """
        if self.task.baseline_file is None:
            return self.task
        async with self._baseline_lock:
            if self._pool_baseline is None:
                self._pool_baseline = await self.provider.import_baseline(self.task.baseline_file)
                self._update_run(baseline_id=self._pool_baseline)
        start = self.task.start.model_copy(update={"baseline": self._pool_baseline})
        return self.task.model_copy(update={"start": start})

    async def _save_baseline(self, scene: Any, baseline_id: str) -> None:
        """baseline.blend: the state every attempt starts from, saved once by whichever attempt is first."""
        async with self._baseline_lock:
            dest = self.folder.root / RUN_BASELINE
            if not dest.exists():
                await scene.reset(baseline_id)
                await scene.save_blend(dest)

    def _examples(self) -> tuple[list[str], dict[str, Path]]:
        """The program and best renders of the past run this one was warm-started from (run.json `recalled`),
        for a model builder's prompt."""
        recalled = self.folder.read_run().recalled
        if self.recall is None or self.config.builder == "parametric" or not recalled:
            return [], {}
        entry = self.recall.entry(recalled["run_id"])
        if entry is None or not entry.code:
            return [], {}
        return [entry.code], {v: Path(p) for v, p in entry.renders.items() if Path(p).is_file()}

    def _update_run(self, **changes: Any) -> None:
        self.folder.update_run(**changes)

    def _over_budget(self) -> Callable[[], str | None] | None:
        """The run-wide spend check every attempt makes before an iteration; None without a cap."""
        caps = self.config.max_cost_usd, self.config.max_tokens
        if caps == (None, None):
            return None
        return lambda: budget_exceeded(run_spend(self.states), *caps)

    def _stepped(self, state: AttemptState, step: IterationStep) -> None:
        self.live.changed()
        if self.on_step is not None:
            self.on_step(state, step)

    def best(self) -> tuple[AttemptState, IterationStep] | None:
        scored = [(s, s.best) for s in self.states.values() if s.best is not None]
        if not scored:
            return None
        return max(scored, key=lambda sb: (sb[1].score, -sb[0].index))

    def best_doc(self, with_files: bool = True) -> dict[str, Any] | None:
        """best_attempt.json's content (`with_files`: its code and final scene paths) for the best so far."""
        best = self.best()
        if best is None:
            return None
        state, step = best
        doc = {"attempt": state.index, "iteration": step.index, "score": step.score,
               "renders": {v: self.folder.rel(p) for v, p in step.renders.items()}}
        if with_files:
            doc["code"] = self.folder.rel(self.folder.iter_dir(state.index, step.index) / "code.py")
            doc["final_scene"] = self.folder.rel(self.folder.attempt_dir(state.index) / "final_scene.blend")
        return doc

    def _finish(self, status: str, started: float, live: dict[str, Any]) -> dict[str, Any]:
        """best_attempt.json, summary.json, report.html, run.json status, and the cross-run memory."""
        best = self.best()
        best_doc = self.best_doc()
        if best is not None and best_doc is not None:
            write_json(self.folder.root / "best_attempt.json", best_doc)
        summary = {
            "run_id": self.folder.run_id, "status": status, "task": self.task.name,
            "best": best_doc, "best_score": best_doc["score"] if best_doc else None,
            "threshold": self.config.threshold, "elapsed_s": round(time.time() - started, 3),
            "attempts": [{"attempt": s.index, "status": s.status, "iterations": s.done_iterations,
                          "best_score": s.best_score, "scores": [x.score for x in s.memory.steps],
                          "strategy": s.strategy.prompt_variant, "error": s.error} for s in self.states.values()],
            "live_report": live,
        }
        write_json(self.folder.root / "summary.json", summary)
        self._update_run(status=status, finished_at=time.time(), degraded=degradations(self.states),
                         spend=run_spend(self.states).model_dump())
        write_report(self.folder, self.task, self.states, best_doc, self.config.threshold)
        self._index(status)
        return summary

    def _index(self, status: str) -> None:
        """The finished run, failures included, into the cross-run index (a cancelled run may be resumed)."""
        if self.recall is None or status == "cancelled":
            return
        try:
            entry = entry_from_folder(self.folder.root)
            if entry is not None:
                self.recall.add(entry)
        except Exception as e:  # noqa: BLE001 - the index is a cache of the run folders: never fatal
            log.warning("run %s not indexed for recall: %s", self.folder.run_id, e)

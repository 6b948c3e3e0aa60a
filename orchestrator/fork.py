"""Fork (ART-06): a new run whose attempts begin from one iteration of an existing run.

The fork point is read from the source run's checkpoint (or, while it runs in this process, its
live attempt states), so a fork needs only the run folder, like resume. What a forked attempt
carries from there:

- its program: the iteration's code.py becomes the new run's start program (start.py), applied
  on the source run's baseline (the task and baseline.blend are copied as for any run). The
  parametric search starts at that program's `# param` values: its next point is a pure function
  of (start program, seed, evaluations), all three in the new run folder, so a resumed fork
  proposes what an uninterrupted one would. It starts a fresh search there (first the forked
  point itself, then fresh differences), as a restart of the search does.
- its memory: the source attempt's steps up to the iteration, with their summaries, as the new
  attempts' `AttemptMemory.prior` (the model builders' history; see orchestrator.memory). The
  forked iteration's renders are copied into the new folder (`forked_from/`), because the newest
  step of a history is shown with its images; older inherited steps carry text only.

The new attempts are written to the new run's checkpoint before the run starts, so the
coordinator (and a resume) loads them as it loads any saved attempt.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from orchestrator.artifacts import RunFolder
from orchestrator.checkpoint import Checkpoint
from orchestrator.coordinator import make_strategy
from orchestrator.errors import ForkError
from orchestrator.memory import AttemptMemory, IterationStep
from orchestrator.state import AttemptState, RunConfig

__all__ = ["ForkPoint", "fork_point", "seed_fork"]

FORK_DIR = "forked_from"


class ForkPoint(BaseModel):
    """Where a fork begins: the iteration's step, the attempt's memory up to it, and its renders
    where the source folder keeps them now (the paths in a step go stale when a folder is moved)."""

    run_id: str
    attempt: int
    iteration: int
    step: IterationStep
    memory: AttemptMemory
    renders: dict[str, Path]

    def origin(self) -> dict[str, Any]:
        """run.json's `forked_from`."""
        return {"run_id": self.run_id, "attempt": self.attempt, "iteration": self.iteration, "score": self.step.score}


def fork_point(source: RunFolder, states: dict[int, AttemptState], attempt: int, iteration: int) -> ForkPoint:
    """The fork point among `states` (the source run's attempts); ForkError naming what exists when there is none."""
    run_id = source.run_id
    if attempt not in states:
        have = ", ".join(map(str, states)) or "none yet"
        raise ForkError(f"run {run_id} has no attempt {attempt}; its attempts: {have}")
    state = states[attempt]
    step = next((s for s in state.memory.steps if s.index == iteration), None)
    ran = [s.index for s in state.memory.steps if s.ran]
    if step is None:
        done = f"0..{state.done_iterations - 1}" if state.done_iterations else "none"
        raise ForkError(f"run {run_id}, attempt {attempt} has no completed iteration {iteration}; its completed "
                        f"iterations: {done}")
    if not step.ran:
        raise ForkError(f"run {run_id}, attempt {attempt}, iteration {iteration}: its program did not run, so there "
                        f"is nothing to start from; iterations that ran: {', '.join(map(str, ran)) or 'none'}")
    kept = [s for s in state.memory.steps if s.index <= iteration]
    memory = AttemptMemory(steps=kept, window=state.memory.window, prior=state.memory.prior,
                           summaries={i: t for i, t in state.memory.summaries.items() if i <= iteration})
    renders = {view: source.renders_dir(attempt, iteration) / Path(p).name for view, p in step.renders.items()}
    missing = [str(p) for p in renders.values() if not p.is_file()]
    if missing:
        raise ForkError(f"run {run_id}, attempt {attempt}, iteration {iteration}: render(s) missing from the run "
                        f"folder: {', '.join(missing)}")
    return ForkPoint(run_id=run_id, attempt=attempt, iteration=iteration, step=step, memory=memory, renders=renders)


def _text_only(memory: AttemptMemory) -> AttemptMemory:
    """The memory with no render paths: they point into other run folders, and only the newest step shows images."""
    return memory.model_copy(update={"steps": [s.model_copy(update={"renders": {}}) for s in memory.steps],
                                     "prior": _text_only(memory.prior) if memory.prior is not None else None})


def seed_fork(folder: RunFolder, config: RunConfig, point: ForkPoint) -> None:
    """Copy the forked iteration's renders into the new run and checkpoint its attempts, each with
    the inherited memory as its `prior`."""
    renders: dict[str, str] = {}
    for view, src in point.renders.items():
        dest = folder.root / FORK_DIR / "renders" / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        renders[view] = str(dest)
    text = _text_only(point.memory)
    last = point.step.model_copy(update={"renders": renders})
    prior = text.model_copy(update={"steps": [*text.steps[:-1], last]})
    checkpoint = Checkpoint(folder.root)
    try:
        for i in range(config.attempts):
            checkpoint.save(AttemptState(index=i, strategy=make_strategy(i, config.seed),
                                         memory=AttemptMemory(window=config.window, prior=prior)))
    finally:
        checkpoint.close()

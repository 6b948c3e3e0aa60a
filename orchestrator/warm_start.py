"""A new run starts warm from the past run it resembles most (orchestrator.recall), unless it says not to.

What is taken depends on the builder. The parametric search starts at the past best's parameter
values, for the parameters of the task's own start program that have the same name and shape
(the program itself stays the task's: only those literals change, so the run folder's start.py
shows where the search began). A model builder is shown the past best program and its renders as
an example. What was recalled, why and how alike is written to run.json (`recalled`). A failure
to look up is never fatal: the run starts cold.
"""

from __future__ import annotations

import logging
from typing import Any

from orchestrator.checkpoint import Checkpoint
from orchestrator.params import ParamError, apply_values, find_params
from orchestrator.recall import RecallStore
from orchestrator.state import RunConfig
from orchestrator.task import Task

__all__ = ["warm_start"]

log = logging.getLogger(__name__)


def warm_start(store: RecallStore | None, task: Task, config: RunConfig) -> tuple[Task, dict[str, Any] | None]:
    """The task as the run starts it, and run.json's `recalled` (None: cold)."""
    if store is None or not config.recall:
        return task, None
    try:
        hit = store.lookup(f"{task.name} {task.description}", dict(task.references))
    except Exception as e:  # noqa: BLE001 - recall is a head start, never a reason to fail a run
        log.warning("recall lookup failed, starting cold: %s", e)
        return task, None
    if hit is None:
        return task, None
    used: list[str] = []
    matched: dict[str, list[float]] = {}
    jacobian: list[list[float]] | None = None
    if config.builder in ("parametric", "hybrid") and task.start_code:
        try:
            own = {p.name: p.dims for p in find_params(task.start_code)}
            matched = {n: v for n, v in hit.entry.params.items() if own.get(n) == len(v)}
            if matched:
                task = task.model_copy(update={"start_code": apply_values(task.start_code, matched)})
                used.append("start parameters: " + ", ".join(sorted(matched)))
                jacobian = _jacobian(store, hit.entry.run_id, task.start_code)
                if jacobian is not None:
                    used.append("its search's Jacobian for the first step")
        except ParamError:
            matched = {}
    if config.builder in ("llm", "hybrid"):
        used.append("its best program and renders as an example")
    if not used:
        return task, None
    return task, {"run_id": hit.entry.run_id, "task": hit.entry.task_name, "score": hit.entry.score,
                  "similarity": hit.similarity, "visual": hit.visual, "text": hit.text, "views": hit.views,
                  "why": hit.why(), "used": used, "params": matched, "jacobian": jacobian}


def _jacobian(store: RecallStore, run_id: str, code: str) -> list[list[float]] | None:
    """The recalled run's residual Jacobian for this program family, fitted to its recorded evaluations."""
    if store.runs_dir is None or not (store.runs_dir / run_id).is_dir():
        return None
    from orchestrator.builders.parametric import fitted_jacobian  # the builders import the task model, as this does

    steps = [s for state in Checkpoint.read(store.runs_dir / run_id).values() for s in state.memory.steps]
    return fitted_jacobian(code, steps)

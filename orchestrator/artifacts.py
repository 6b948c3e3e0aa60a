"""The run folder of DESIGN.md "Run artifacts": every file a person or a resume needs, written atomically.

    runs/<UTC ts>_<slug>/
      run.json  task.toml  baseline.blend  summary.json  best_attempt.json  report.html
      ref/<view>.png  start.py                      (the task's inputs, copied so a run is self-contained)
      attempts/attempt-000/
        attempt.json  strategy.txt  final_score.json  final_scene.blend
        iterations/iter-000/
          plan.txt  code.py  execution.json  renders/<view>.png
          sentinel.json  verifier.json  generator_raw.txt  verifier_raw.txt  models.json
          tools.json  looks/<n>.png                 (a tool-using builder's calls and the views it looked at)
      checkpoint/                                   (diskcache, see orchestrator.checkpoint)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness.measure_types import MASK_SUFFIX, side_file
from orchestrator.errors import RunNotFound
from orchestrator.memory import IterationStep
from orchestrator.run_record import RunRecord
from orchestrator.state import AttemptState
from orchestrator.task import RUN_BASELINE, Task, load_task, task_to_toml

__all__ = ["write_atomic", "write_json", "read_json", "RunFolder"]

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write via a temp file in the same folder and rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, value: BaseModel | dict[str, Any] | list[Any]) -> Path:
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return write_atomic(path, json.dumps(data, indent=2, default=str) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()[:40] or "task"


class RunFolder:
    """Paths and writers of one run folder."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()  # artifact paths must not depend on the cwd of whoever reads them

    @property
    def run_id(self) -> str:
        return self.root.name

    # ---- creation and lookup -------------------------------------------------------------
    @classmethod
    def create(cls, runs_dir: Path, task: Task) -> "RunFolder":
        """A new, unique folder `<UTC ts>_<slug>` holding the task's inputs (task.toml, refs, start.py)."""
        runs_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%dT%H-%M-%SZ", time.gmtime())
        base = f"{stamp}_{_slug(task.name)}"
        for n in range(1000):
            root = runs_dir / (base if n == 0 else f"{base}-{n}")
            try:
                root.mkdir()
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(f"no free run folder name under {runs_dir} for {base}")
        folder = cls(root)
        refs: dict[str, str] = {}
        for view, src in task.references.items():
            rel = f"ref/{view}{src.suffix.lower() or '.png'}"
            (root / "ref").mkdir(exist_ok=True)
            shutil.copyfile(src, root / rel)
            if (mask := Path(side_file(str(src), MASK_SUFFIX))).is_file():  # a shipped subject mask travels with it
                shutil.copyfile(mask, root / side_file(rel, MASK_SUFFIX))
            refs[view] = rel
        plans: dict[str, str] = {}
        for view, drawing in (task.blueprint.views.items() if task.blueprint else ()):
            plans[view] = f"plans/{view}{drawing.image.suffix.lower() or '.png'}"
            (root / "plans").mkdir(exist_ok=True)
            shutil.copyfile(drawing.image, root / plans[view])
        program = None
        if task.start_code:
            write_atomic(root / "start.py", task.start_code)
            program = "start.py"
        if task.baseline_file is not None:  # the copied task.toml names it RUN_BASELINE
            shutil.copyfile(task.baseline_file, root / RUN_BASELINE)
        write_atomic(root / "task.toml", task_to_toml(task, refs, program, plans))
        return folder

    @classmethod
    def open(cls, runs_dir: Path, run_id: str) -> "RunFolder":
        if not _RUN_ID.match(run_id) or run_id in (".", ".."):
            raise RunNotFound(f"invalid run id {run_id!r}")
        root = runs_dir / run_id
        if not (root / "run.json").is_file():
            raise RunNotFound(f"no run {run_id!r} under {runs_dir}")
        return cls(root)

    def read_best(self) -> dict[str, Any] | None:
        """best_attempt.json, or None before any attempt has scored."""
        path = self.root / "best_attempt.json"
        return read_json(path) if path.is_file() else None

    def load_task(self) -> Task:
        return load_task(self.root / "task.toml")

    # ---- paths -----------------------------------------------------------------------------
    def attempt_dir(self, attempt: int) -> Path:
        return self.root / "attempts" / f"attempt-{attempt:03d}"

    def iter_dir(self, attempt: int, iteration: int) -> Path:
        return self.attempt_dir(attempt) / "iterations" / f"iter-{iteration:03d}"

    def renders_dir(self, attempt: int, iteration: int) -> Path:
        return self.iter_dir(attempt, iteration) / "renders"

    def rel(self, path: str | Path) -> str:
        """A path inside the run folder, relative to it (for JSON and the report)."""
        p = Path(path)
        return str(p.relative_to(self.root)) if p.is_absolute() and p.is_relative_to(self.root) else str(p)

    # ---- writers ---------------------------------------------------------------------------
    def write_run(self, record: RunRecord | dict[str, Any]) -> None:
        """run.json, written whole (atomically); a dict is validated as a RunRecord first."""
        write_json(self.root / "run.json", RunRecord.model_validate(record).to_json())

    def read_run(self) -> RunRecord:
        return RunRecord.model_validate(read_json(self.root / "run.json"))

    def update_run(self, **changes: Any) -> RunRecord:
        """Read run.json, apply `changes` (stamping updated_at), write it back atomically; returns the new record."""
        record = self.read_run().updated(**changes, updated_at=time.time())
        self.write_run(record)
        return record

    def write_iteration(self, attempt: int, step: IterationStep) -> Path:
        d = self.iter_dir(attempt, step.index)
        write_atomic(d / "plan.txt", step.plan + ("\n" if step.plan and not step.plan.endswith("\n") else ""))
        write_atomic(d / "code.py", step.code)
        write_json(d / "execution.json", {
            "final": step.execution.model_dump(mode="json") if step.execution else None,
            "fixes": len(step.executions) - 1 if step.executions else 0,
            "runs": [{"code": r.code, "report": r.report.model_dump(mode="json")} for r in step.executions],
            "error": step.error,
        })
        write_json(d / "sentinel.json", step.sentinel.model_dump(mode="json") if step.sentinel else {})
        write_json(d / "verifier.json", {
            "score": step.score,
            "sentinel_penalty": step.sentinel_penalty,
            "evaluator_errors": step.evaluator_errors,
            "compare": step.compare.model_dump(mode="json") if step.compare else None,
            "blueprint": step.blueprint.model_dump(mode="json") if step.blueprint else None,
            "critique": step.critique.model_dump(mode="json", exclude={"calls", "raw_replies"}) if step.critique else None,
            "feedback": step.feedback(),
        })
        write_atomic(d / "generator_raw.txt", step.raw)
        write_atomic(d / "verifier_raw.txt", "\n\n---\n\n".join(step.critique.raw_replies) if step.critique else "")
        if step.tool_calls:
            write_json(d / "tools.json", [c.model_dump(mode="json") for c in step.tool_calls])
        write_json(d / "models.json", [c.model_dump(mode="json") for c in step.calls])  # last: readers wait for it
        return d

    def write_attempt(self, state: AttemptState) -> None:
        d = self.attempt_dir(state.index)
        best = state.best
        write_atomic(d / "strategy.txt", state.strategy.describe())
        write_json(d / "attempt.json", {
            "attempt": state.index,
            "status": state.status,
            "strategy": state.strategy.model_dump(mode="json"),
            "iterations": state.done_iterations,
            "scores": [s.score for s in state.memory.steps],
            "best_iteration": best.index if best else None,
            "best_score": state.best_score,
            "error": state.error,
            "started_at": state.started_at,
            "finished_at": state.finished_at,
        })

    def write_final_score(self, state: AttemptState) -> None:
        best = state.best
        write_json(self.attempt_dir(state.index) / "final_score.json", {
            "attempt": state.index, "status": state.status, "score": state.best_score,
            "iteration": best.index if best else None,
            "renders": {v: self.rel(p) for v, p in best.renders.items()} if best else {},
        })

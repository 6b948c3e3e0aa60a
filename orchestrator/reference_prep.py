"""The references as the run measures them: each beside the scene's own background through its camera.

A reference's subject is what differs from the scene without its subject (servers/viewport_vision/
reference_subject.py). That background is the start program's scene with its subject objects
hidden (so a ground or light the program makes is background too), or the baseline itself when the
task has no program, rendered once per run and view with the task's render settings. The run keeps
`reference/<view>.png` (a copy of the task's reference), `reference/<view>.background.png` and, when
the task ships `ref/<view>.mask.png`, `reference/<view>.mask.png` (then no background is rendered
for that view). Prepared once: a resumed run finds them there.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from harness.measure_types import MASK_SUFFIX, side_file
from orchestrator.scene import Scene
from orchestrator.task import Task

__all__ = ["prepare_references", "REFERENCE_DIR", "BACKGROUND_SUFFIX"]

REFERENCE_DIR = "reference"
BACKGROUND_SUFFIX = ".background.png"  # as servers.viewport_vision.side_files reads it


async def prepare_references(task: Task, scene: Scene, run_root: Path, timeout_s: float) -> Task:
    """The task with its references moved beside their background renders (or shipped masks) in the run folder."""
    if not task.references:
        return task
    dest = run_root / REFERENCE_DIR
    copies = {view: dest / f"{view}.png" for view in task.references}
    if not all(p.exists() for p in copies.values()):
        dest.mkdir(parents=True, exist_ok=True)
        need_background: list[str] = []
        for view, source in task.references.items():
            shipped = Path(side_file(str(source), MASK_SUFFIX))
            if shipped.is_file():
                _copy(shipped, Path(side_file(str(copies[view]), MASK_SUFFIX)))
            else:
                need_background.append(view)
        if need_background:
            await _render_background(task, scene, need_background, dest, timeout_s)
        for view, source in task.references.items():  # last: their presence says the folder is complete
            _copy(source, copies[view])
    return task.model_copy(update={"references": copies})


async def _render_background(task: Task, scene: Scene, views: list[str], dest: Path, timeout_s: float) -> None:
    """The start program (or nothing) on the baseline, subject hidden; a program that fails leaves no background
    (the views then fall back to pixel silhouettes, and say so)."""
    await scene.reset(task.start.baseline)
    settings = task.render.model_copy(update={"views": views, "hide_subject": True})
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        done = await scene.execute_and_render(task.start_code or "pass", settings, Path(tmp), timeout_s=timeout_s)
        if done.render is None:
            return
        for view, rendered in done.render.views.items():
            _copy(Path(rendered.path), dest / f"{view}{BACKGROUND_SUFFIX}")


def _copy(source: Path, target: Path) -> None:
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(source, tmp)
    tmp.replace(target)

"""What `finalize SOURCE` may name: a mesh or .blend file, or a run folder (its best attempt's scene).

Checked here, before any worker starts, so a typo or a hostile path gets a plain error: the path
must exist, a file must have a supported suffix and be a regular file (a symlink is followed and
judged by its target), and a run folder must have a best attempt whose final scene was saved.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from harness.asset_types import source_file_problem
from orchestrator.artifacts import RunFolder
from orchestrator.errors import AssetError

__all__ = ["AssetSource", "resolve_source"]


class AssetSource(BaseModel):
    path: Path               # the file a worker imports
    name: str                # the asset's name before sanitising (file stem or task name)
    run_dir: Path | None     # set when the source was a run folder
    objects: list[str] | None = None  # only these mesh objects (a run's scene keeps its ground plane otherwise)


def _best_scene(run_dir: Path) -> AssetSource:
    best_file = run_dir / "best_attempt.json"
    try:
        best = json.loads(best_file.read_text(encoding="utf-8"))
        scene = (run_dir / best["final_scene"]).resolve()
        task = RunFolder(run_dir).read_run().task or run_dir.name
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise AssetError(f"run folder {run_dir} has no usable best attempt ({best_file.name}): {e}") from e
    if not scene.is_relative_to(run_dir.resolve()) or not scene.is_file():
        raise AssetError(f"the best attempt's scene {scene} is missing or outside the run folder")
    return AssetSource(path=scene, name=task, run_dir=run_dir)


def resolve_source(path: Path) -> AssetSource:
    """The checked source; AssetError says what is wrong with it."""
    path = Path(path).expanduser()
    if not path.exists():
        raise AssetError(f"no such file or folder: {path}")
    resolved = path.resolve()
    if resolved.is_dir():
        if not (resolved / "run.json").is_file():
            raise AssetError(f"{path} is a folder but not a run folder (no run.json)")
        return _best_scene(resolved)
    if problem := source_file_problem(resolved):
        raise AssetError(problem)
    return AssetSource(path=resolved, name=path.stem, run_dir=None)

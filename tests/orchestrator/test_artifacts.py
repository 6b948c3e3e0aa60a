"""The run folder: paths written into its JSON are relative to the run, whatever the cwd was."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.launcher import PROJECT_ROOT
from orchestrator.artifacts import RunFolder
from orchestrator.task import load_task


def test_a_run_under_a_relative_runs_dir_records_paths_relative_to_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    task = load_task(PROJECT_ROOT / "examples" / "tasks" / "red_block" / "task.toml")
    monkeypatch.chdir(tmp_path)
    folder = RunFolder.create(Path("runs"), task)
    render = folder.renders_dir(0, 3) / "front.png"
    assert folder.rel(render) == "attempts/attempt-000/iterations/iter-003/renders/front.png"
    monkeypatch.chdir(PROJECT_ROOT)  # a reader elsewhere still finds the run's own files
    assert (folder.root / "task.toml").is_file() and (folder.root / "ref" / "front.png").is_file()

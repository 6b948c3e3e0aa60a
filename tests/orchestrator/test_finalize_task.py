"""[finalize] in task.toml: parsed, validated, and kept in the run folder's copy of the task."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestrator.errors import TaskError
from orchestrator.task import load_task, task_to_toml

CUBE = Path(__file__).parent / "data" / "cube"


def task_with(tmp_path: Path, table: str) -> Path:
    shutil.copytree(CUBE, tmp_path / "cube")
    path = tmp_path / "cube" / "task.toml"
    path.write_text(path.read_text() + table)
    return path


def test_a_finalize_profile_is_read_and_written_back_with_the_task(tmp_path: Path):
    task = load_task(task_with(tmp_path, '\n[finalize]\nprofile = "unity"\n'))
    assert task.finalize.profile == "unity"
    copy = tmp_path / "copy.toml"
    copy.write_text(task_to_toml(task, {}, None))
    assert '[finalize]\nprofile = "unity"' in copy.read_text()


def test_a_task_without_finalize_writes_no_finalize_table(tmp_path: Path):
    task = load_task(task_with(tmp_path, ""))
    assert task.finalize.profile is None and "[finalize]" not in task_to_toml(task, {}, None)


@pytest.mark.parametrize(("table", "field"), [
    ('\n[finalize]\nprofil = "unity"\n', "finalize.profil"),
    ('\n[finalize]\nprofile = "../unity"\n', "finalize.profile"),
])
def test_a_bad_finalize_table_names_the_field(table: str, field: str, tmp_path: Path):
    with pytest.raises(TaskError, match=rf"task.toml: {field}:"):
        load_task(task_with(tmp_path, table))

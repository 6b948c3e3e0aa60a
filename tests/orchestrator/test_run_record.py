"""run.json as a typed RunRecord: folders written before it existed still open, and a rewrite keeps them whole.

data/run_folder_v1/run.json is a real run.json written by the code before RunRecord (a finished
`cube` run with a finalize job), copied unchanged.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from orchestrator.artifacts import RunFolder
from orchestrator.assets.source import resolve_source
from orchestrator.run_record import RunRecord
from orchestrator.service import RunService

V1 = Path(__file__).parent / "data" / "run_folder_v1"


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    run_id = json.loads((V1 / "run.json").read_text())["run_id"]
    shutil.copytree(V1, tmp_path / "runs" / run_id)
    return tmp_path / "runs"


def test_a_run_json_written_before_the_record_reads_typed(runs_dir: Path) -> None:
    run_id = next(runs_dir.iterdir()).name
    record = RunFolder.open(runs_dir, run_id).read_run()
    assert (record.run_id, record.task, record.status) == (run_id, "cube", "completed")
    assert record.config is not None and (record.config.builder, record.config.iterations) == ("parametric", 2)
    assert record.spend is not None and record.spend.calls == 0 and record.asset["profile"] == "godot"
    assert record.owner["host"] == "vm" and record.degraded == [] and record.forked_from is None
    status = RunService(None, None, runs_dir).status(run_id)
    assert (status.task, status.status, status.builder, status.verifier, status.iterations_budget) == (
        "cube", "completed", "parametric", "metrics", 2)
    assert [s.run_id for s in RunService(None, None, runs_dir).list()] == [run_id]


def test_an_update_keeps_every_key_and_value_it_did_not_change(runs_dir: Path) -> None:
    folder = RunFolder(next(runs_dir.iterdir()))
    before = json.loads((folder.root / "run.json").read_text())
    folder.update_run(status="interrupted", note="a key this version does not know")
    after = json.loads((folder.root / "run.json").read_text())
    assert after.pop("status") == "interrupted" and after.pop("note") == "a key this version does not know"
    assert after.pop("updated_at") > before.pop("updated_at")
    before.pop("status")
    assert after == before
    assert not list(folder.root.glob("*.tmp")) and not list(folder.root.glob(".*tmp*"))


def test_the_oldest_shape_a_task_as_a_table_and_no_config_still_opens(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "20260101T000000Z_bumpy_ball"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"task": {"name": "bumpy ball"}, "status": "done"}))
    record = RunFolder(run).read_run()
    assert (record.task, record.status, record.config) == ("bumpy ball", "done", None)
    status = RunService(None, None, tmp_path / "runs").status(run.name)
    assert (status.task, status.builder, status.iterations_budget) == ("bumpy ball", "?", 0)


def test_a_record_that_does_not_type_check_names_the_field(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    with pytest.raises(ValueError, match="config.iterations"):
        folder.write_run({"status": "completed", "config": {"iterations": 0}})
    assert not (tmp_path / "run.json").exists()


def test_a_run_folder_as_a_finalize_source_is_named_after_its_task(runs_dir: Path) -> None:
    folder = RunFolder(next(runs_dir.iterdir()))
    scene = folder.root / "attempts" / "attempt-000" / "final_scene.blend"
    scene.parent.mkdir(parents=True)
    scene.write_bytes(b"BLENDER")
    (folder.root / "best_attempt.json").write_text(json.dumps({"final_scene": "attempts/attempt-000/final_scene.blend"}))
    assert resolve_source(folder.root).name == "cube"
    assert RunRecord.model_validate({"task": "cube"}).to_json() == {"task": "cube"}

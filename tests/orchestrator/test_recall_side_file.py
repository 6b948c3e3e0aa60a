"""The recall index's signature side file over real run folders: a fresh store answers from it alone, and a
side file that is damaged, missing, of another version or outdated, or run folders changed behind its back,
cost a rebuild and never a wrong or failed look-up."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from orchestrator.recall import INDEX_FILE, SIDE_FILE, RecallHit, RecallStore
from orchestrator.recall_matrix import SignatureMatrix, index_token
from tests.orchestrator.test_recall import block_png, past_run, runs  # noqa: F401 - the fixture

RED = (40, 40, 210)


def query(tmp_path: Path) -> dict[str, Path]:
    return {"front": block_png(tmp_path / "query" / "front.png", RED, 56, 42)}


def answer(hit: RecallHit) -> dict:
    return hit.model_dump(exclude={"entry": {"indexed_at"}})  # a rebuild indexes the same run anew


def side_is_current(memory: Path) -> bool:
    index = memory / INDEX_FILE
    return SignatureMatrix.load_side(memory / SIDE_FILE, index_token(index), index.stat().st_size) is not None


def test_a_fresh_store_answers_from_the_side_file_without_parsing_the_index(runs, tmp_path):
    first = RecallStore(runs / ".memory", runs).lookup("block A red block", query(tmp_path))
    assert side_is_current(runs / ".memory")
    fresh = RecallStore(runs / ".memory", runs)
    hit = fresh.lookup("block A red block", query(tmp_path))
    assert hit is not None and first is not None and answer(hit) == answer(first)
    assert fresh._cache is not None and fresh._cache.raw is None, "the index was parsed whole"  # noqa: SLF001
    assert fresh.entry("r2_blue_tall").code.startswith("import bpy"), "an entry is read from its byte range alone"
    assert json.loads((runs / ".memory" / INDEX_FILE).read_text())["version"] == 1, "the index is still plain JSON"


def other_version(path: Path) -> None:
    with np.load(path) as side:
        arrays = {k: side[k] for k in side.files}
    header = json.loads(arrays["header"].tobytes()) | {"version": 99}
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    out = io.BytesIO()
    np.savez(out, **arrays)
    path.write_bytes(out.getvalue())


def from_another_index(path: Path) -> None:
    old = path.read_bytes()
    RecallStore(path.parent, path.parent.parent).rebuild()  # the index is written again: a new token
    path.write_bytes(old)


def rows_cut(path: Path) -> None:
    with np.load(path) as side:
        arrays = {k: side[k][:1] if k in ("scores", "has_code") else side[k] for k in side.files}
    out = io.BytesIO()
    np.savez(out, **arrays)
    path.write_bytes(out.getvalue())


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(b"PK\x03\x04 not a zip"), lambda p: p.write_bytes(b""), lambda p: p.unlink(),
    other_version, from_another_index, rows_cut],
    ids=["garbage", "empty", "missing", "other-version", "from-another-index", "rows-cut"])
def test_a_damaged_missing_or_outdated_side_file_is_made_again_and_the_answer_is_the_same(runs, tmp_path, damage):
    expected = RecallStore(runs / ".memory", runs).lookup("block A red block", query(tmp_path))
    damage(runs / ".memory" / SIDE_FILE)
    assert not (runs / ".memory" / SIDE_FILE).exists() or not side_is_current(runs / ".memory")
    hit = RecallStore(runs / ".memory", runs).lookup("block A red block", query(tmp_path))
    assert expected is not None and hit is not None and answer(hit) == answer(expected)
    assert side_is_current(runs / ".memory"), "and written back"


def test_run_folders_added_or_removed_behind_the_index_are_indexed_or_dropped_at_the_next_look_up(runs, tmp_path):
    store = RecallStore(runs / ".memory", runs)
    assert store.lookup("block A red block", query(tmp_path)).entry.run_id == "r1_red_wide"
    past_run(runs, "r4_red_exact", RED, 56, 42, score=0.97)  # another process's run, finished after the look-up
    past_run(runs, "r5_running", RED, 56, 42, status="running")
    past_run(runs, "r6_cancelled", RED, 56, 42, status="cancelled")
    fresh = RecallStore(runs / ".memory", runs)
    assert fresh.lookup("block A red block", query(tmp_path)).entry.run_id == "r4_red_exact"
    assert not {"r5_running", "r6_cancelled"} & {e.run_id for e in fresh.entries()}, "not ended yet: may be resumed"
    shutil.rmtree(runs / "r4_red_exact")
    shutil.rmtree(runs / "r1_red_wide")
    assert store.lookup("block A red block", query(tmp_path)) is None, "the same store sees folders go"
    assert {e.run_id for e in RecallStore(runs / ".memory", runs).entries()} == {"r2_blue_tall", "r3_red_wide_failed"}
    (runs / "r5_running" / "run.json").write_text(json.dumps({"run_id": "r5_running", "status": "completed",
                                                             "config": {"builder": "parametric"}}))
    assert store.lookup("block A red block", query(tmp_path)).entry.run_id == "r5_running", "indexed once it finished"
    assert side_is_current(runs / ".memory")


def test_an_index_entry_damaged_inside_is_found_when_read_and_the_index_rebuilt(runs, tmp_path):
    RecallStore(runs / ".memory", runs).lookup("block A red block", query(tmp_path))
    index = runs / ".memory" / INDEX_FILE
    blob = index.read_bytes()
    index.write_bytes(blob.replace(b'"run_id": "r1_red_wide"', b'"run_id": ["r1_red_wi"]'))  # same size
    (runs / ".memory" / SIDE_FILE).write_bytes((runs / ".memory" / SIDE_FILE).read_bytes())  # token and size still match
    hit = RecallStore(runs / ".memory", runs).lookup("block A red block", query(tmp_path))
    assert hit is not None and hit.entry.run_id == "r1_red_wide"
    assert json.loads(index.read_text())["entries"][0]["run_id"] == "r1_red_wide", "rebuilt from the run folders"

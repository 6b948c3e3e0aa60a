"""`colossus show` and `colossus report` on run folders, through the real command line entry point."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from gateway.cli import main
from orchestrator.artifacts import RunFolder
from orchestrator.task import load_task

RED_BLOCK = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "red_block" / "task.toml"


@pytest.fixture
def run_id(tmp_path: Path) -> str:
    folder = RunFolder.create(tmp_path / "runs", load_task(RED_BLOCK))
    folder.write_run({"run_id": folder.run_id, "task": "red_block", "status": "completed",
                      "config": {"threshold": 0.9, "builder": "parametric", "verifier": "metrics"}})
    return folder.run_id


def test_show_prints_a_runs_status_and_report_writes_its_page(tmp_path: Path, run_id: str, capsys) -> None:
    runs = str(tmp_path / "runs")
    assert main(["show", run_id, "--runs-dir", runs, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == run_id
    assert main(["report", run_id, "--runs-dir", runs]) == 0
    page = Path(capsys.readouterr().out.strip())
    assert page == tmp_path / "runs" / run_id / "report.html" and page.is_file()


@pytest.mark.parametrize("command", ["show", "report"])
def test_an_unknown_run_is_named_on_stderr_with_exit_code_2(tmp_path: Path, command: str, capsys) -> None:
    assert main([command, "no_such_run", "--runs-dir", str(tmp_path / "runs")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"colossus {command}: ") and "no_such_run" in captured.err and captured.out == ""


@pytest.mark.parametrize(("args", "says"), [
    (["run", "no/such/task.toml"], "no/such/task.toml"),
    (["run", str(RED_BLOCK), "--attempts", "0"], "run options"),
    (["run", str(RED_BLOCK), "--builder", "parametric", "--threshold", "7"], "run options"),
    (["fork", "{run}", "--attempt", "5", "--iteration", "0"], "attempt"),
    (["fork", "no_such_run", "--attempt", "0", "--iteration", "0"], "no_such_run"),
    (["resume", "no_such_run"], "no_such_run"),
], ids=["missing-task", "zero-attempts", "bad-threshold", "fork-unknown-attempt", "fork-unknown-run", "resume-unknown-run"])
def test_a_bad_run_request_exits_2_before_any_worker_starts(tmp_path: Path, run_id: str, args: list[str], says: str,
                                                            capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # where a started pool would make its folder
    command = [a.replace("{run}", run_id) for a in args]
    assert main([*command, "--runs-dir", str(tmp_path / "runs"), "--no-check", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("colossus: ") and says in err, err
    assert not list(temp.glob("colossus-pool-*")), "the pool was started before the request was checked"

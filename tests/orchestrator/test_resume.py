"""SIGKILL `colossus run` mid-run, then `colossus resume`: completed iterations stay intact, the run finishes,
and the search proposes exactly the programs an uninterrupted run of the same seed does."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.errors import OrchestratorError
from orchestrator.service import RunService

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"
PROJECT = Path(__file__).resolve().parents[2]
ITERATIONS = 14


def colossus(*args: str, cwd: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLOSSUS_")}
    return subprocess.Popen([sys.executable, "-m", "gateway.cli", *args], cwd=cwd, env={**env, "PYTHONPATH": str(PROJECT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def completed_iterations(runs: Path) -> tuple[Path | None, int]:
    for attempt_json in runs.glob("*/attempts/attempt-000/attempt.json"):
        return attempt_json.parents[2], json.loads(attempt_json.read_text())["iterations"]
    return None, 0


def watching_from_another_process(runs: Path, run_id: str, pid: int) -> None:
    """What a gateway beside the `colossus run` process sees: the run going on (not 'interrupted'), each
    new iteration through get(wait_s), and a resume refused, since two processes would run it twice."""
    service = RunService(None, None, runs)
    status = service.status(run_id)
    assert status.status == "running" and not status.active, status
    before = status.attempts[0].iterations
    started = time.monotonic()
    later = asyncio.run(service.get(run_id, wait_s=30))
    assert later.attempts[0].iterations > before and time.monotonic() - started < 30, "woken by the next iteration"
    with pytest.raises(OrchestratorError, match=f"running in another process \\(pid {pid}\\)"):
        asyncio.run(service.resume(run_id))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_run_killed_with_sigkill_resumes_with_its_completed_iterations_intact(tmp_path: Path):
    runs = tmp_path / "runs"
    proc = colossus("run", str(CUBE), "--workers", "1", "--runs-dir", str(runs), "--builder", "parametric",
                    "--attempts", "1", "--iterations", str(ITERATIONS), "--threshold", "1.0", cwd=tmp_path)
    deadline = time.monotonic() + 120
    run_dir, done = None, 0
    while done < 3:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run did not complete 3 iterations in time"
        time.sleep(0.05)
        run_dir, done = completed_iterations(runs)
    assert run_dir is not None
    watching_from_another_process(runs, run_dir.name, proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert RunService(None, None, runs).status(run_dir.name).status == "interrupted", "its process is gone"
    _, kept = completed_iterations(runs)
    assert kept < ITERATIONS, "the run finished before it was killed"
    before = {i: digest(run_dir / f"attempts/attempt-000/iterations/iter-{i:03d}/code.py") for i in range(kept)}
    scores_before = json.loads((run_dir / "attempts/attempt-000/attempt.json").read_text())["scores"][:kept]

    resumed = colossus("resume", run_dir.name, "--workers", "1", "--runs-dir", str(runs), "--json", cwd=tmp_path)
    out, err = resumed.communicate(timeout=150)
    assert resumed.returncode == 0, err
    result = json.loads(out)
    assert result["status"] == "completed" and result["attempts"][0]["iterations"] == ITERATIONS
    after = {i: digest(run_dir / f"attempts/attempt-000/iterations/iter-{i:03d}/code.py") for i in range(kept)}
    assert after == before
    attempt = json.loads((run_dir / "attempts/attempt-000/attempt.json").read_text())
    assert attempt["scores"][:kept] == scores_before and attempt["status"] == "exhausted"
    assert len(json.loads((run_dir / "run.json").read_text())["resumed_at"]) == 1

    whole = tmp_path / "uninterrupted"
    straight = colossus("run", str(CUBE), "--workers", "1", "--runs-dir", str(whole), "--builder", "parametric",
                        "--attempts", "1", "--iterations", str(ITERATIONS), "--threshold", "1.0", cwd=tmp_path)
    _, err = straight.communicate(timeout=150)
    assert straight.returncode == 0, err
    straight_dir, _ = completed_iterations(whole)
    assert straight_dir is not None
    programs = [(d / f"attempts/attempt-000/iterations/iter-{i:03d}/code.py").read_text()
                for d in (run_dir, straight_dir) for i in range(ITERATIONS)]
    assert programs[:ITERATIONS] == programs[ITERATIONS:]  # the proposals after the kill are the uninterrupted ones
    assert len(set(programs[:ITERATIONS])) == ITERATIONS  # and the search never asked a point twice

"""`colossus serve` as a process: no Blender worker outlives it, however it ends."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

PROJECT = Path(__file__).resolve().parents[2]


def start_gateway(tmp_path: Path, *extra: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    config = tmp_path / "colossus.toml"
    config.write_text(f'[pool]\nworkers = 1\nworkdir = "{tmp_path / "pool"}"\n[vision]\nenabled = false\n')
    return subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--config", str(config), *extra],
                            cwd=PROJECT, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def blender_workers(gateway: subprocess.Popen[bytes], timeout_s: float = 60) -> list[psutil.Process]:
    """The gateway's worker processes, once the first one has started."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [p for p in psutil.Process(gateway.pid).children(recursive=True)
                 if "servers.blender_primary" in " ".join(p.cmdline())]
        if found:
            return found
        assert gateway.poll() is None, "the gateway exited early"
        time.sleep(0.1)
    raise AssertionError("no worker started")


def all_gone(processes: list[psutil.Process], timeout_s: float = 10) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=timeout_s)
    return not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture
def reaped() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_gateway_and_all_its_workers(signum: int, tmp_path: Path, reaped: list) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gateway = start_gateway(tmp_path, "--http", "--port", str(port))
    reaped.append(gateway)
    workers = blender_workers(gateway)
    time.sleep(1.0)
    gateway.send_signal(signum)
    assert gateway.wait(30) is not None
    assert all_gone(workers), "a Blender worker outlived its gateway"


def test_closing_stdin_ends_a_stdio_gateway_and_its_workers(tmp_path: Path, reaped: list) -> None:
    gateway = start_gateway(tmp_path, stdin=subprocess.PIPE)
    reaped.append(gateway)
    workers = blender_workers(gateway)
    assert gateway.stdin is not None
    gateway.stdin.close()
    assert gateway.wait(30) is not None
    assert all_gone(workers)


def test_a_killed_gateway_leaves_no_orphaned_worker(tmp_path: Path, reaped: list) -> None:
    gateway = start_gateway(tmp_path, stdin=subprocess.PIPE)
    reaped.append(gateway)
    workers = blender_workers(gateway)
    os.kill(gateway.pid, signal.SIGKILL)
    gateway.wait(10)
    assert all_gone(workers), "the worker's parent watch should end it"


def _serve(tmp_path: Path, config: str, *extra: str, stdin: int | None = subprocess.DEVNULL) -> tuple[int, str, float]:
    """Run `colossus serve` with this config to its end: exit code, stderr, seconds taken."""
    path = tmp_path / "colossus.toml"
    path.write_text(config)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--config", str(path), *extra], cwd=PROJECT,
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=120)  # stdin stays open when it is a pipe: a hang fails here
    finally:
        proc.kill()
    return proc.returncode, err, time.monotonic() - started


NO_BLENDER = '[pool]\nworkers = 1\nmode = "binary"\nblender_binary = "/no/such/blender"\n[vision]\nenabled = false\n'


@pytest.mark.parametrize("transport", [[], ["--http", "--port", "0"]], ids=["stdio", "http"])
@pytest.mark.parametrize("stdin", [subprocess.DEVNULL, subprocess.PIPE], ids=["devnull", "open-pipe"])
def test_serve_without_blender_exits_2_with_one_line(tmp_path: Path, transport: list[str], stdin: int) -> None:
    code, err, _ = _serve(tmp_path, NO_BLENDER, *transport, stdin=stdin)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("colossus serve: ") and "/no/such/blender" in err


def test_serve_with_a_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    code, err, _ = _serve(tmp_path, '[pool]\nworkers = "many"\n', stdin=subprocess.PIPE)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "pool.workers: Input should be a valid integer" in err


def test_serve_whose_pool_cannot_start_exits_1_with_one_line_while_stdin_stays_open(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    config = f'[pool]\nworkers = 1\nworkdir = "{blocker / "pool"}"\n[vision]\nenabled = false\n'
    code, err, _ = _serve(tmp_path, config, stdin=subprocess.PIPE)
    lines = [line for line in err.strip().splitlines() if line]
    assert code == 1 and len(lines) == 1 and lines[0].startswith("colossus serve: could not start: "), err

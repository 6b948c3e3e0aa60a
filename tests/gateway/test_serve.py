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

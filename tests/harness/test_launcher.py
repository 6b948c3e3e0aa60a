"""Worker commands are built right for both launch modes; a missing Blender binary says so clearly.

No Blender executable is installed here, so `binary` mode is checked up to the command line;
the `bpy` mode is started for real in tests/servers/blender_primary (stdio, HTTP, CLI).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from harness.errors import BlenderBinaryMissing
from harness.launcher import ENTRY_SCRIPT, PROJECT_ROOT, WorkerLaunch


def fake_executable(folder: Path) -> Path:
    """An executable file standing where a Blender binary would be (never run)."""
    path = folder / "blender"
    path.write_text("#!/bin/sh\nexit 1\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_bpy_mode_runs_the_server_module_with_this_python(tmp_path: Path) -> None:
    launch = WorkerLaunch(workdir=tmp_path / "w", baselines_dir=tmp_path / "b", output_dir=tmp_path / "o")
    assert launch.command() == [
        sys.executable, "-m", "servers.blender_primary",
        "--workdir", str(tmp_path / "w"), "--code-policy", "log",
        "--baselines-dir", str(tmp_path / "b"), "--output-dir", str(tmp_path / "o"),
    ]


def test_http_transport_adds_host_and_port(tmp_path: Path) -> None:
    launch = WorkerLaunch(workdir=tmp_path, transport="http", port=8123)
    assert launch.command()[-5:] == ["--http", "--host", "127.0.0.1", "--port", "8123"]


def test_binary_mode_runs_entry_script_in_background_blender(tmp_path: Path) -> None:
    blender = fake_executable(tmp_path)
    command = WorkerLaunch(mode="binary", blender_binary=blender, workdir=tmp_path / "w").command()
    assert command[:8] == [str(blender), "-b", "--factory-startup", "--quiet", "--python-exit-code", "1", "--python", str(ENTRY_SCRIPT)]
    assert command[8:] == ["--", "--workdir", str(tmp_path / "w"), "--code-policy", "log"]
    assert ENTRY_SCRIPT.is_file()


def test_missing_blender_binary_is_a_clear_error(tmp_path: Path) -> None:
    launch = WorkerLaunch(mode="binary", blender_binary=tmp_path / "no-blender", workdir=tmp_path)
    with pytest.raises(BlenderBinaryMissing, match="no-blender does not exist or is not executable"):
        launch.command()
    with pytest.raises(BlenderBinaryMissing, match="needs blender_binary"):
        WorkerLaunch(mode="binary", workdir=tmp_path).command()


def test_environment_is_explicit_and_carries_project_and_memory_limit(tmp_path: Path) -> None:
    env = WorkerLaunch(workdir=tmp_path, memory_mb=3000).env()
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(PROJECT_ROOT)
    assert env["COLOSSUS_WORKER_MEMORY_MB"] == "3000"
    assert env["COLOSSUS_PARENT_PID"] == str(os.getpid()), "the worker must know which parent to die with"
    assert set(env) <= set(os.environ) | {"PYTHONPATH", "PYTHONUNBUFFERED", "COLOSSUS_WORKDIR", "COLOSSUS_WORKER_MEMORY_MB",
                                          "COLOSSUS_PARENT_PID"}


def test_binary_mode_environment_lends_blender_our_site_packages(tmp_path: Path) -> None:
    env = WorkerLaunch(mode="binary", blender_binary=fake_executable(tmp_path), workdir=tmp_path).env()
    assert any(p.endswith("site-packages") for p in env["PYTHONPATH"].split(os.pathsep))


def test_stdio_transport_runs_in_the_worker_folder_with_the_explicit_env(tmp_path: Path) -> None:
    launch = WorkerLaunch(workdir=tmp_path / "worker")
    transport = launch.stdio_transport()
    assert (tmp_path / "worker").is_dir()
    assert transport.cwd == str(tmp_path / "worker")
    assert transport.env == launch.env()
    assert [transport.command, *transport.args] == launch.command()

"""How a Blender worker process is started: the command, its environment, its transport.

Two modes run the same server code (servers/blender_primary): `bpy` (this Python with the bpy
wheel: `python -m servers.blender_primary`) and `binary` (an installed Blender executable running
servers/blender_primary/entry.py). Each worker gets its own working directory.

Memory: `memory_mb` is handed to the worker as COLOSSUS_WORKER_MEMORY_MB; the worker holds it
itself once started (servers/blender_primary/memory_guard.py), not from the launch: bpy maps
~2 GB of address space at import while resident memory is ~400 MB, so a 1 GB RLIMIT_AS set
before `import bpy` segfaults it. A worker that ends itself over its limit leaves MEMORY_EXIT_NOTE
in its workdir for the gateway; the gateway's RSS watch stays as the last line.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from harness.errors import BlenderBinaryMissing, LaunchError
from harness.platform_calls import new_session

__all__ = ["WorkerLaunch", "PROJECT_ROOT", "ENTRY_SCRIPT", "MEMORY_ENV", "MEMORY_EXIT_NOTE", "PARENT_ENV",
           "check_blender"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENTRY_SCRIPT = PROJECT_ROOT / "servers" / "blender_primary" / "entry.py"
MEMORY_ENV = "COLOSSUS_WORKER_MEMORY_MB"
PARENT_ENV = "COLOSSUS_PARENT_PID"  # the process that starts the worker: it must die with it (parent_watch)
MEMORY_EXIT_NOTE = "memory_exit.txt"
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "VIRTUAL_ENV", "XDG_RUNTIME_DIR",
              # the GPUs this worker may use: Ray sets them in an actor that reserved GPUs (ray_gpus)
              "CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES",
              "COLOSSUS_PORTABLE")  # harness.platform_calls: force the portable fallbacks


class WorkerLaunch(BaseModel):
    mode: Literal["bpy", "binary"] = "bpy"
    blender_binary: Path | None = Field(None, description="Blender executable for mode 'binary'")
    workdir: Path
    baselines_dir: Path | None = None
    output_dir: Path | None = None
    memory_mb: int | None = Field(None, gt=0)
    transport: Literal["stdio", "http"] = "stdio"
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535, description="HTTP port; 0 picks a free one at spawn")
    code_policy: Literal["log", "block"] = "log"
    tmp_dir: Path | None = Field(None, description="the worker's TMPDIR: Blender's session folder (blender_*) goes "
                                                   "there, so whoever kills the worker can remove what it left")
    python: str = Field(default_factory=lambda: sys.executable, description="interpreter for mode 'bpy'")

    def server_args(self) -> list[str]:
        args = ["--workdir", str(self.workdir), "--code-policy", self.code_policy]
        if self.baselines_dir is not None:
            args += ["--baselines-dir", str(self.baselines_dir)]
        if self.output_dir is not None:
            args += ["--output-dir", str(self.output_dir)]
        if self.transport == "http":
            args += ["--http", "--host", self.host, "--port", str(self.port)]
        return args

    def command(self) -> list[str]:
        if self.mode == "bpy":
            return [self.python, "-m", "servers.blender_primary", *self.server_args()]
        binary = self._checked_binary()
        return [
            str(binary), "-b", "--factory-startup", "--quiet", "--python-exit-code", "1",
            "--python", str(ENTRY_SCRIPT), "--", *self.server_args(),
        ]

    def env(self) -> dict[str, str]:
        """An explicit environment (fastmcp's StdioTransport does not inherit one)."""
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        python_path = [str(PROJECT_ROOT)]
        if self.mode == "binary":  # Blender's own Python needs our dependencies from this environment
            python_path += [p for p in sys.path if p.endswith("site-packages")]
        env["PYTHONPATH"] = os.pathsep.join(python_path)
        env["PYTHONUNBUFFERED"] = "1"
        env["COLOSSUS_WORKDIR"] = str(self.workdir)
        env[PARENT_ENV] = str(os.getpid())
        if self.tmp_dir is not None:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            env["TMPDIR"] = str(self.tmp_dir)
        if self.memory_mb is not None:
            env[MEMORY_ENV] = str(self.memory_mb)
        return env

    def stdio_transport(self, log_file: Path | None = None):  # -> fastmcp StdioTransport (imported lazily)
        """A stdio transport for this worker; its stderr (Blender's chatter) goes to `log_file` if given."""
        from fastmcp.client.transports import StdioTransport

        self.workdir.mkdir(parents=True, exist_ok=True)
        command = self.command()
        return StdioTransport(
            command[0], command[1:], env=self.env(), cwd=str(self.workdir), keep_alive=False, log_file=log_file,
        )

    def spawn_http(self, ready_timeout_s: float = 60.0, log_path: Path | None = None) -> tuple[subprocess.Popen, str]:
        """Start an HTTP worker in its own session; return the process and its /mcp URL once it listens."""
        launch = self if self.port else self.model_copy(update={"port": _free_port(self.host)})
        launch = launch.model_copy(update={"transport": "http"})
        launch.workdir.mkdir(parents=True, exist_ok=True)
        log = open(log_path or launch.workdir / "worker.log", "ab")  # noqa: SIM115  (owned by the child)
        try:
            process = subprocess.Popen(
                launch.command(), env=launch.env(), cwd=launch.workdir,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, **new_session(),
            )
        finally:
            log.close()
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LaunchError(f"worker exited with code {process.returncode} before listening; see {log.name}")
            with socket.socket() as probe:
                if probe.connect_ex((launch.host, launch.port)) == 0:
                    return process, f"http://{launch.host}:{launch.port}/mcp"
            time.sleep(0.1)
        process.kill()
        raise LaunchError(f"worker did not listen on {launch.host}:{launch.port} within {ready_timeout_s:g} s")

    def _checked_binary(self) -> Path:
        if self.blender_binary is None:
            raise BlenderBinaryMissing("mode 'binary' needs blender_binary (path to a Blender executable)")
        binary = Path(self.blender_binary).expanduser()
        if not binary.is_file() or not os.access(binary, os.X_OK):
            raise BlenderBinaryMissing(f"Blender executable {binary} does not exist or is not executable")
        return binary


def check_blender(mode: Literal["bpy", "binary"], blender_binary: Path | str | None) -> None:
    """Raise BlenderBinaryMissing when no worker of this kind can start here: checked once at startup,
    so a gateway without Blender says so instead of retrying its workers in the background."""
    if mode == "binary":
        WorkerLaunch(mode="binary", blender_binary=blender_binary, workdir=Path("."))._checked_binary()
    elif importlib.util.find_spec("bpy") is None:
        raise BlenderBinaryMissing(f"the bpy wheel is not installed in {sys.executable} (pip install bpy==5.0.1), "
                                   "or set [pool] mode = 'binary' and blender_binary")


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]

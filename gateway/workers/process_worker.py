"""One Blender worker: its process and the long-lived MCP client the gateway keeps open to it.

Connecting costs about a second, so a client lives as long as its process and every call reuses
it. A call that outlives its timeout or loses the connection ends with the process killed (its
whole tree: harness.platform_calls.kill_tree) and a WorkerError; the pool decides about respawning. Remote workers
(streamable-HTTP URLs) have no local process: they are reconnected, never killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp_types
import psutil
from fastmcp import Client
from fastmcp.client.transports import ClientTransport, StreamableHttpTransport
from mcp import MCPError

from gateway.config import PoolConfig
from gateway.errors import (
    WorkerCrashed,
    WorkerError,
    WorkerOverMemory,
    WorkerTimedOut,
    WorkerToolError,
    WorkerUnavailable,
)
from gateway.errors import describe as _describe
from gateway.relay_client import RelayClient
from harness.launcher import MEMORY_EXIT_NOTE, WorkerLaunch
from harness.platform_calls import kill_tree

__all__ = ["WorkerSpec", "Worker"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSpec:
    """Where one worker lives: a local folder (started by us) or a remote URL."""

    label: str
    workdir: Path | None = None
    baselines_dir: Path | None = None
    port: int | None = None
    url: str | None = None

    @property
    def local(self) -> bool:
        return self.url is None


class Worker:
    """A worker slot; `start()` (re)creates the process and client, `call()` uses them."""

    def __init__(self, spec: WorkerSpec, config: PoolConfig) -> None:
        self.spec = spec
        self.config = config
        self.pid: int | None = None
        self.node: str | None = None  # a local worker runs on this machine; a Ray worker names its node
        self.generation = 0
        self.tools: list[mcp_types.Tool] = []
        self.memory_guard: str | None = None  # what holds the memory limit inside the worker, as its ping says
        self._client: Client | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        self._lock = asyncio.Lock()
        self.kill_reason: WorkerError | None = None  # set by the pool before it kills a worker on purpose

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    @property
    def connected(self) -> bool:
        return self._client is not None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start (or restart) the process and connect; raises WorkerUnavailable."""
        await self.stop()
        self.generation += 1
        self.kill_reason = None
        client: RelayClient | None = None
        try:
            # the handshake era: a long-lived link to our own server, measured ~0.2 ms cheaper per call
            client = RelayClient(await self._transport(), name=f"colossus-pool-{self.label}", mode="legacy",
                                  init_timeout=self.config.startup_timeout_s)
            await asyncio.wait_for(client.__aenter__(), self.config.startup_timeout_s)
            self._client = client
            self.tools = await asyncio.wait_for(client.list_tools(), self.config.call_timeout_s)
            pong = await asyncio.wait_for(client.session.call_tool("ping", {}), self.config.call_timeout_s)
            self.memory_guard = (pong.structured_content or {}).get("memory_guard")
            self.pid = self._find_pid()
        except BaseException as e:
            self._client = self._client or client  # so stop() closes a half-open client too
            await self.stop()
            if isinstance(e, asyncio.CancelledError):
                raise
            raise WorkerUnavailable(f"worker {self.label} could not start: {_describe(e)}") from e
        log.info("worker %s ready (pid %s, generation %d)", self.label, self.pid, self.generation)

    async def stop(self) -> None:
        """Kill the process tree (if local) and drop the client. Safe to call twice."""
        self.kill_now()
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(client.close(), 5)
        if self._popen is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._popen.wait, 5)
            self._popen = None
        self.pid = None
        if self._tmp_dir is not None:  # a killed Blender never removes its blender_* session folder itself
            await asyncio.to_thread(shutil.rmtree, self._tmp_dir, True)

    def kill_now(self) -> None:
        """Kill the worker's process tree at once; synchronous so exit handlers can use it."""
        pid = self.pid or (self._popen.pid if self._popen else None)
        if pid is not None:
            kill_tree(pid)

    async def _transport(self) -> ClientTransport:
        if self.spec.url is not None:
            return StreamableHttpTransport(self.spec.url)
        launch = self._launch()
        log_file = launch.workdir / "worker.log"
        if self.config.transport == "stdio":
            return launch.stdio_transport(log_file=log_file)
        self._popen, url = await asyncio.to_thread(launch.spawn_http, self.config.startup_timeout_s, log_file)
        return StreamableHttpTransport(url)

    def _launch(self) -> WorkerLaunch:
        assert self.spec.workdir is not None
        return WorkerLaunch(
            mode=self.config.mode,
            blender_binary=self.config.blender_binary,
            workdir=self.spec.workdir,
            baselines_dir=self.spec.baselines_dir,
            output_dir=self.spec.workdir / "output",
            memory_mb=self.config.memory_limit_mb,
            transport=self.config.transport,
            host=self.config.host,
            port=self.spec.port or 0,
            code_policy=self.config.code_policy,
            tmp_dir=self._tmp_dir,
        )

    @property
    def _tmp_dir(self) -> Path | None:
        return self.spec.workdir / "tmp" if self.spec.workdir is not None else None

    def _find_pid(self) -> int | None:
        """The worker's process: ours (HTTP) or the stdio child whose command line names its workdir."""
        if self._popen is not None:
            return self._popen.pid
        if self.spec.workdir is None:
            return None
        needle = str(self.spec.workdir)
        for child in psutil.Process().children(recursive=False):
            with contextlib.suppress(psutil.Error):
                if any(needle in part for part in child.cmdline()):
                    return child.pid
        return None

    # -- health ------------------------------------------------------------------------------

    def alive(self) -> bool:
        if not self.spec.local:
            return self._client is not None
        if self.pid is None:
            return False
        try:
            return psutil.Process(self.pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    async def refresh(self) -> None:
        """Update what alive() and rss_mb() read; a local worker's figures are read live, so nothing to do."""

    def rss_mb(self) -> float | None:
        """Resident memory of the worker and its children, MiB (None for remote workers)."""
        if self.pid is None:
            return None
        try:
            proc = psutil.Process(self.pid)
            procs = [proc, *proc.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs) / 2**20
        except psutil.Error:
            return None

    # -- calls -------------------------------------------------------------------------------

    async def call(self, name: str, arguments: dict[str, Any], timeout_s: float) -> mcp_types.CallToolResult:
        """Call a worker tool; its own errors come back as a result with is_error set.

        Raises WorkerTimedOut (process killed), WorkerCrashed (process or connection gone),
        WorkerUnavailable (not started) or WorkerToolError (the call was malformed).
        """
        async with self._lock:
            client = self._client
            if client is None:
                raise WorkerUnavailable(f"worker {self.label} is not running")
            started = time.monotonic()
            try:
                async with asyncio.timeout(timeout_s):
                    # the session itself, not call_tool_mcp: workers never ask for input (SEP-2322),
                    # and skipping that driver saves two tasks per call
                    return await client.session.call_tool(name, arguments)
            except TimeoutError as e:
                await self.stop()
                raise WorkerTimedOut(
                    f"worker {self.label} did not answer {name} within {timeout_s:g} s and was killed"
                ) from e
            except MCPError as e:
                if self.alive() and e.error.code != mcp_types.CONNECTION_CLOSED:
                    raise WorkerToolError(f"[BAD_REQUEST] {name}: {e.error.message}") from e
                await self._crashed(name, e, started)
            except Exception as e:  # connection lost, session task died, broken pipe...
                await self._crashed(name, e, started)
            raise AssertionError("unreachable")

    async def ping(self, timeout_s: float) -> None:
        """The worker's `ping` tool: it answers from Blender's main thread, so a wedged worker fails it."""
        result = await self.call("ping", {}, timeout_s)
        if result.is_error:
            raise WorkerToolError(f"worker {self.label} answered ping with an error")

    async def _crashed(self, name: str, error: BaseException, started: float) -> None:
        was_alive = self.alive()
        for _ in range(10 if was_alive and self.spec.local else 0):  # a killed process closes its pipes a moment
            await asyncio.sleep(0.02)                                 # before the kernel has it gone
            if not (was_alive := self.alive()):
                break
        note = self._memory_exit_note()
        await self.stop()
        if self.kill_reason is not None:
            raise self.kill_reason from error
        if note is not None:
            raise WorkerOverMemory(f"worker {self.label} during {name}: {note}") from error
        how = "lost its connection" if was_alive else "died"
        raise WorkerCrashed(
            f"worker {self.label} {how} during {name} after {time.monotonic() - started:.1f} s ({_describe(error)})"
        ) from error

    def _memory_exit_note(self) -> str | None:
        """Why the worker ended itself, if its memory guard did (servers/blender_primary/memory_guard.py)."""
        if self.spec.workdir is None:
            return None
        note = self.spec.workdir / MEMORY_EXIT_NOTE
        try:
            text = note.read_text()
        except OSError:
            return None
        note.unlink(missing_ok=True)
        return text

"""The Ray actor that supervises one Blender worker on its node (imported only with backend 'ray').

It owns a `servers.blender_primary` child over stdio through the very `gateway.workers.process_worker.Worker` the
local backend uses (launch, relay client, timeouts, process-group kill), in a folder of its own on
its node; bpy is never imported in the Ray worker. Only plain data crosses to the gateway: a tool
result as JSON, the bytes of the files the call wrote (gateway.workers.carried_files), baselines as bytes.
The Blender child dies with this actor's process (servers.blender_primary.parent_watch: PDEATHSIG
plus a parent-pid watchdog), so it cannot outlive the actor, its node or the gateway's job.

`health` answers in its own concurrency group, so a probe is never queued behind a long render.
Every call names the actor incarnation it was meant for: Ray restarts an actor whose process or
node died, but the new one holds an empty scene, so a call meant for the old one is refused, never
run (a non-idempotent execute_code is not replayed; max_task_retries stays 0).
"""

from __future__ import annotations

import secrets
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import ray
from pydantic import BaseModel

from gateway.workers.carried_files import CarriedFile, collect, land
from gateway.config import PoolConfig
from gateway.errors import GatewayError
from gateway.workers.folder_owners import claim, reap_orphans
from gateway.workers.process_worker import Worker, WorkerSpec

__all__ = ["BlenderActor", "ActorInfo", "ActorHealth", "CallOutcome", "HEALTH_GROUP"]

HEALTH_GROUP = "health"
MTIME_SLACK_NS = 100_000_000  # file times tick coarser than time.time_ns(): a file written right after the start counts


class ActorInfo(BaseModel):
    """Who answered: the incarnation calls must name, where it runs, its folders (root name → path), its tools."""

    incarnation: str
    node_id: str
    hostname: str
    pid: int | None
    roots: dict[str, str]
    tools: list[dict[str, Any]]
    memory_guard: str | None = None


class ActorHealth(BaseModel):
    alive: bool
    rss_mb: float | None = None
    pid: int | None = None


class CallOutcome(BaseModel):
    """A tool result (CallToolResult as JSON) with the files it wrote, or a worker error by class name."""

    result: dict[str, Any] | None = None
    files: list[CarriedFile] = []
    error: str | None = None
    message: str = ""


class BlenderActor:
    """One Blender worker in a Ray actor; see the module docstring. Make it remote with gateway.workers.ray_worker."""

    def __init__(self, config: PoolConfig, label: str, session: str) -> None:
        self.incarnation = secrets.token_hex(6)
        self.label = label
        reap_orphans(Path(tempfile.gettempdir()), "colossus-*")  # of actors (and gateways) on this node that died
        self.folder = Path(tempfile.mkdtemp(prefix=f"colossus-{session}-{label}-"))
        claim(self.folder)
        self.roots = {"work": self.folder / "work", "baselines": self.folder / "baselines"}
        for root in self.roots.values():
            root.mkdir()
        self.worker = Worker(WorkerSpec(label=label, workdir=self.roots["work"], baselines_dir=self.roots["baselines"]), config)

    async def start(self) -> ActorInfo:
        """(Re)start the Blender child; raises WorkerUnavailable when it cannot start."""
        await self.worker.start()
        return ActorInfo(incarnation=self.incarnation, node_id=ray.get_runtime_context().get_node_id(),
                         hostname=socket.gethostname(), pid=self.worker.pid,
                         roots={name: str(root) for name, root in self.roots.items()},
                         tools=[t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in self.worker.tools],
                         memory_guard=self.worker.memory_guard)

    async def call(self, incarnation: str, tool: str, arguments: dict[str, Any], timeout_s: float,
                   baselines: list[CarriedFile], dropped: list[str]) -> CallOutcome:
        """Put the given baselines in place (and remove the dropped ones), call the tool, and return its
        result with the files it wrote."""
        if incarnation != self.incarnation:
            node = ray.get_runtime_context().get_node_id()[:12]
            return CallOutcome(error="WorkerCrashed", message=(
                f"worker {self.label}'s Ray actor was restarted by Ray (now on node {node}) after its process or "
                "node died; the scene it held is gone and the call was not run"))
        since = time.time_ns() - MTIME_SLACK_NS
        for baseline_id in dropped:
            (self.roots["baselines"] / f"{baseline_id}.blend").unlink(missing_ok=True)
        try:
            land(baselines, self.roots)
            result = await self.worker.call(tool, arguments, timeout_s)
        except GatewayError as e:
            return CallOutcome(error=type(e).__name__, message=str(e))
        data = result.model_dump(mode="json", by_alias=True, exclude_none=True)
        sent = {(f.root, f.relative) for f in baselines}  # the gateway has those: no echo
        files = [] if result.is_error else [f for f in collect(data, self.roots, since) if (f.root, f.relative) not in sent]
        return CallOutcome(result=data, files=files)

    @ray.method(concurrency_group=HEALTH_GROUP)
    async def health(self) -> ActorHealth:
        """Whether Blender runs and its memory, answered beside any call in flight."""
        return ActorHealth(alive=self.worker.alive(), rss_mb=self.worker.rss_mb(), pid=self.worker.pid)

    async def stop(self) -> None:
        """Kill the Blender child and remove this actor's folder."""
        await self.worker.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

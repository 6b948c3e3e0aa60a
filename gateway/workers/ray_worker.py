"""The pool's Ray backend: joining the cluster, and `RayWorker`, a pool worker whose Blender is a Ray actor.

The pool drives a RayWorker exactly like a local Worker (start, call, ping, stop, kill), so leases,
restore points and recovery stay in `gateway.workers.pool`, their one owner. What differs is where state
lives: the actor's node may vanish, so every file a call writes (renders, .blend files, restore
points) is carried back by value and lands in this worker's folder on the gateway (a mirror, at the
paths a local worker would have used), and a baseline the actor lacks (a restore point saved on a
node now gone, a task's .blend) is sent to it as bytes before a reset. The gateway therefore keeps
everything it needs to rebuild a scene on any live node.

Ray is imported here and only here (and in gateway.workers.ray_actor): a gateway without the `ray` extra
never imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import socket
import time
from pathlib import Path
from typing import Any

import mcp_types

from gateway.workers.carried_files import CarriedFile, land, rewrite
from gateway.config import PoolConfig
from gateway.errors import (
    ConfigError, GatewayError, WorkerCrashed, WorkerOverMemory, WorkerTimedOut, WorkerToolError, WorkerUnavailable, describe,
)
from gateway.workers.leases import EMPTY
from gateway.workers.process_worker import Worker, WorkerSpec

try:
    import ray
    from ray.exceptions import RayError
except ImportError as e:  # pragma: no cover - exercised by a gateway without the extra
    raise ConfigError("[pool] backend = 'ray' needs Ray: pip install -e '.[ray]'") from e

from gateway.workers.ray_actor import HEALTH_GROUP, ActorHealth, ActorInfo, BlenderActor

__all__ = ["RayCluster", "RayWorker"]

log = logging.getLogger(__name__)

CALL_MARGIN_S = 10.0  # the actor's own timeout kills a stuck Blender first; this covers a stuck actor
HEALTH_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 10.0
UNPLACED_STOP_S = 2.0
PROBE_TIMEOUT_S = 3.0
RESTART_POLL_S = 0.5
PASSED_ERRORS: dict[str, type[GatewayError]] = {
    e.__name__: e for e in (WorkerCrashed, WorkerTimedOut, WorkerOverMemory, WorkerUnavailable, WorkerToolError)}
"""The worker errors an actor reports by class name (CallOutcome.error), raised here as themselves."""


class RayCluster:
    """This gateway's membership of a Ray cluster; `join` checks it can hold Blender workers."""

    def __init__(self, address: str, owned: bool) -> None:
        self.address = address
        self.owned = owned  # ray.init was ours, so is ray.shutdown
        self.session = secrets.token_hex(4)  # names the actors' folders on their nodes

    @classmethod
    def join(cls, config: PoolConfig) -> RayCluster:
        """Connect (unless this process already is); ConfigError at once when no cluster answers or
        no node offers the `blender` resource, rather than actors waiting forever."""
        owned = not ray.is_initialized()
        if owned:
            _probe(config.ray_address)
            try:
                ray.init(address=config.ray_address, namespace="colossus", log_to_driver=False,
                         logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise ConfigError(f"[pool] ray_address = {config.ray_address!r}: no Ray cluster to join ({e})") from e
        blender = ray.cluster_resources().get("blender", 0)
        if blender < 1:
            if owned:
                ray.shutdown()
            raise ConfigError(
                f"the Ray cluster at {config.ray_address!r} has no node with the custom resource `blender`; "
                "start render hosts with: ray start --address=<head> --resources='{\"blender\": 4}'")
        if blender < config.workers:
            log.warning("the Ray cluster offers %g `blender` slots for %d workers: the rest wait for nodes",
                        blender, config.workers)
        return cls(config.ray_address, owned)

    def worker(self, spec: WorkerSpec, config: PoolConfig) -> RayWorker:
        return RayWorker(spec, config, self.session)

    def leave(self) -> None:
        if self.owned and ray.is_initialized():
            ray.shutdown()


class RayWorker(Worker):
    """A pool worker whose Blender runs in a BlenderActor somewhere in the cluster (module docstring).

    `spec.workdir` and `spec.baselines_dir` are the gateway's folders: the files the actor sends
    back land there, so results carry paths on this machine as a local worker's do.
    """

    def __init__(self, spec: WorkerSpec, config: PoolConfig, session: str) -> None:
        super().__init__(spec, config)
        self.session = session
        self._actor: Any = None
        self._info: ActorInfo | None = None
        self._health = ActorHealth(alive=False)
        self._held: dict[str, tuple[int, int]] = {}  # baselines the actor has: id → (mtime_ns, size) of ours

    @property
    def connected(self) -> bool:
        return self._info is not None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start Blender in the actor: the one Ray restarted if it has one, else a new actor."""
        self._info = None
        self.generation += 1
        self.kill_reason = None
        self._held.clear()
        try:
            async with asyncio.timeout(self.config.startup_timeout_s):
                info = await self._start_actor()
        except BaseException as e:
            self.kill_now()
            if isinstance(e, asyncio.CancelledError):
                raise
            why = ("no node with a free `blender` resource took its actor" if isinstance(e, TimeoutError)
                   else describe(e))
            raise WorkerUnavailable(f"worker {self.label} could not start on Ray within "
                                    f"{self.config.startup_timeout_s:g} s: {why}") from e
        self._info, self.node, self.pid, self.memory_guard = info, info.node_id, info.pid, info.memory_guard
        self.tools = [mcp_types.Tool.model_validate(t) for t in info.tools]
        self._health = ActorHealth(alive=True, pid=info.pid)
        log.info("worker %s ready on Ray node %s (generation %d)", self.label, info.node_id[:12], self.generation)

    async def _start_actor(self) -> ActorInfo:
        while self._actor is not None:  # Ray may be restarting it (its process or node died): wait for that
            try:
                return await self._actor.start.remote()
            except ray.exceptions.ActorUnavailableError:
                await asyncio.sleep(RESTART_POLL_S)
            except ray.exceptions.RayActorError:  # dead for good: let its `blender` slot go before asking anew
                self.kill_now()
        self._actor = _actor_class(self.config.ray_gpus).remote(self.config, self.label, self.session)
        return await self._actor.start.remote()

    async def stop(self) -> None:
        """Stop Blender and the actor for good, its folder on the node removed. Safe to call twice."""
        actor = self._actor
        if actor is not None:  # a Blender that is down still leaves a folder; an actor not placed yet, nothing
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(actor.stop.remote(), STOP_TIMEOUT_S if self._info else UNPLACED_STOP_S)
        self.kill_now()

    def kill_now(self) -> None:
        """End the actor at once (its Blender child dies with it); synchronous, like Worker.kill_now."""
        actor, self._actor, self._info = self._actor, None, None
        self.pid = None
        self._health = ActorHealth(alive=False)
        if actor is not None:
            with contextlib.suppress(Exception):
                ray.kill(actor, no_restart=True)

    # -- health ------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Ask the actor (health group: beside any call in flight) whether Blender lives and its memory."""
        actor = self._actor
        if actor is None or self._info is None:
            return
        try:
            self._health = await asyncio.wait_for(actor.health.remote(), HEALTH_TIMEOUT_S)
        except (TimeoutError, RayError):
            self._health = ActorHealth(alive=False)

    def alive(self) -> bool:
        return self._info is not None and self._health.alive

    def rss_mb(self) -> float | None:
        return self._health.rss_mb if self.alive() else None

    # -- calls -------------------------------------------------------------------------------

    async def call(self, name: str, arguments: dict[str, Any], timeout_s: float) -> mcp_types.CallToolResult:
        """Worker.call's contract, through the actor; files come back by value (module docstring)."""
        async with self._lock:
            info, actor = self._info, self._actor
            if info is None or actor is None:
                raise WorkerUnavailable(f"worker {self.label} is not running")
            push, dropped = self._baselines_to_send(name, arguments), self._baselines_dropped(name)
            started = time.monotonic()
            try:
                async with asyncio.timeout(timeout_s + CALL_MARGIN_S):
                    outcome = await actor.call.remote(info.incarnation, name, arguments, timeout_s, push, dropped)
            except TimeoutError as e:
                self.kill_now()
                raise WorkerTimedOut(f"worker {self.label}'s Ray actor did not answer {name} within "
                                     f"{timeout_s + CALL_MARGIN_S:g} s and was killed") from e
            except RayError as e:
                self._info = None  # the next start() takes the actor Ray restarts, or a new one
                if self.kill_reason is not None:
                    raise self.kill_reason from e
                raise WorkerCrashed(f"worker {self.label}'s Ray actor on node {info.node_id[:12]} was lost during "
                                    f"{name} after {time.monotonic() - started:.1f} s ({describe(e)})") from e
            if outcome.error is not None:
                if outcome.error != "WorkerToolError":
                    self._info = None  # Blender is down inside the actor: start() brings it back
                raise PASSED_ERRORS.get(outcome.error, WorkerCrashed)(outcome.message)
            self._keep(land(outcome.files, self._roots()), push)
            moves = {far: str(self._roots()[name]) for name, far in info.roots.items()}
            return mcp_types.CallToolResult.model_validate(rewrite(outcome.result, moves))

    def _roots(self) -> dict[str, Path]:
        assert self.spec.workdir is not None and self.spec.baselines_dir is not None
        return {"work": self.spec.workdir, "baselines": self.spec.baselines_dir}

    def _baselines_to_send(self, name: str, arguments: dict[str, Any]) -> list[CarriedFile]:
        """Before a reset: the baseline's bytes from the gateway's folder, unless the actor has them."""
        baseline_id = arguments.get("baseline_id")
        if name != "reset_to_baseline" or not isinstance(baseline_id, str) or baseline_id == EMPTY:
            return []
        folder = self._roots()["baselines"]
        path = folder / f"{baseline_id}.blend"
        if path.parent != folder or not path.is_file():  # a bad id: the worker refuses it by name
            return []
        if self._held.get(baseline_id) == _signature(path):
            return []
        return [CarriedFile(root="baselines", relative=path.name, data=path.read_bytes())]

    def _baselines_dropped(self, name: str) -> list[str]:
        """Before a reset: baselines the actor holds that the gateway has deleted (a released scene's
        restore point), so a long-lived actor's disk does not fill with them."""
        if name != "reset_to_baseline":
            return []
        folder = self._roots()["baselines"]
        dropped = [bid for bid in self._held if not (folder / f"{bid}.blend").exists()]
        for bid in dropped:
            del self._held[bid]
        return dropped

    def _keep(self, landed: list[Path], sent: list[CarriedFile]) -> None:
        folder = self._roots()["baselines"]
        for path in [*landed, *(folder / f.relative for f in sent)]:
            if path.parent == folder and path.suffix == ".blend":
                self._held[path.stem] = _signature(path)


@functools.cache
def _actor_class(gpus: float) -> Any:
    """BlenderActor as a Ray actor: one `blender` slot, GPUs if asked, restarted by Ray, calls never retried."""
    return ray.remote(num_cpus=0, num_gpus=gpus, resources={"blender": 1}, max_restarts=-1, max_task_retries=0,
                      concurrency_groups={HEALTH_GROUP: 1})(BlenderActor)


def _probe(address: str) -> None:
    """A host:port with nothing listening makes ray.init retry for minutes: refuse it in seconds."""
    host, _, port = address.rpartition(":")
    if address == "auto" or address.startswith("ray://") or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), PROBE_TIMEOUT_S).close()
    except OSError as e:
        raise ConfigError(f"[pool] ray_address = {address!r}: no Ray cluster answers there ({e}); "
                          "start one with `ray start --head` or set ray_address = 'auto'") from e


def _signature(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size

"""The pool of Blender workers: leases by scene_id, a bounded wait queue, warm spares, health.

A lease binds one worker exclusively to a `scene_id` until released or idle-expired. Every call
on a scene goes through `Pool.call`, the one place that keeps the scene's restore point (the
baseline it was reset to, or the checkpoint saved after each successful execute_code) and, when
a worker crashes, hangs or outgrows its memory limit, moves the scene to a fresh worker restored
from that point before the error reaches the caller. Released workers are reset to `empty` in the
background, so the next lease usually needs no reset at all (the warm spare). The idle workers and
the bounded wait for one are gateway.workers.free_list; what a restore point is, gateway.workers.restore_points.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mcp_types

from gateway.config import PoolConfig
from gateway.errors import (
    UnknownScene,
    WorkerCrashed,
    WorkerError,
    WorkerOverMemory,
    WorkerToolError,
    WorkerUnavailable,
)
from gateway.workers import restore_points
from gateway.workers.folder_owners import adopt, fresh_temp_folder
from gateway.workers.free_list import FreeList
from gateway.workers.leases import EMPTY, Lease, PoolStatus, WorkerStatus, checkpoint_id
from gateway.workers.ports import free_ports
from gateway.relay_client import error_text
from gateway.workers.process_worker import Worker, WorkerSpec

if TYPE_CHECKING:
    from gateway.workers.ray_worker import RayCluster

__all__ = ["Pool", "EMPTY"]

log = logging.getLogger(__name__)

RESTORE_WAIT_S = 30.0
CALL_BUDGET_S = 48.0  # a host call must end before ~50 s, recovery included
MEMORY_MARGIN = 1.10  # a worker holds its memory limit itself (memory_guard); past this the health check replaces it


class Pool:
    """See the module docstring. Start with `start()`, stop with `stop()` (kills every worker)."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self._owned_dir: tempfile.TemporaryDirectory[str] | None = None
        self.workdir = Path(config.workdir) if config.workdir else None
        self.workers: list[Worker] = []
        self._idle = FreeList(config)
        self._state: dict[Worker, str] = {}
        self._errors: dict[Worker, str] = {}
        self._leases: dict[str, Lease] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._health: asyncio.Task[None] | None = None
        self._stopping = False
        self._ray: RayCluster | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self.workers)

    @property
    def baselines_dir(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "baselines"

    def start(self) -> None:
        """Create the workers and start them in the background; leases wait for them.

        With backend 'ray', joins the cluster first: ConfigError when it cannot hold Blender workers."""
        if self.config.backend == "ray":
            from gateway.workers.ray_worker import RayCluster  # noqa: PLC0415 - Ray is an optional extra

            self._ray = RayCluster.join(self.config)
        if self.workdir is None:  # folders of gateways that were killed are removed first (folder_owners)
            self._owned_dir = fresh_temp_folder("colossus-pool-")
            self.workdir = Path(self._owned_dir.name)
        self.workdir = self.workdir.resolve()
        self.baselines_dir.mkdir(parents=True, exist_ok=True)
        adopt(self.workdir, "*/tmp")
        ports = free_ports(self.config.base_port, self.config.workers, self.config.host) if self.config.transport == "http" else []
        specs = [
            WorkerSpec(label=f"w{i}", workdir=self.workdir / f"w{i}", baselines_dir=self.baselines_dir,
                       port=ports[i] if ports else None)
            for i in range(self.config.workers)
        ] + [WorkerSpec(label=f"r{i}", url=url) for i, url in enumerate(self.config.remote)]
        for spec in specs:
            worker = self._ray.worker(spec, self.config) if self._ray else Worker(spec, self.config)
            self.workers.append(worker)
            self._state[worker] = "starting"
            self._spawn(self._respawn(worker))
        self._health = asyncio.create_task(self._health_loop(), name="pool-health")

    async def wait_ready(self, timeout_s: float, count: int = 1) -> int:
        """Wait until `count` workers are free (or the timeout); returns how many are free."""
        return await self._idle.wait_ready(timeout_s, count)

    async def stop(self) -> None:
        self._stopping = True
        for task in [self._health, *self._tasks]:
            if task is not None:
                task.cancel()
        for task in [self._health, *self._tasks]:
            if task is not None:
                with contextlib.suppress(BaseException):
                    await task
        await asyncio.gather(*(w.stop() for w in self.workers), return_exceptions=True)
        self._leases.clear()
        self._idle.clear()
        if self._ray is not None:
            self._ray.leave()
            self._ray = None
        if self._owned_dir is not None:
            with contextlib.suppress(OSError):
                self._owned_dir.cleanup()
            self._owned_dir = None

    # -- leases ------------------------------------------------------------------------------

    async def lease(self, baseline_id: str = EMPTY, checkpoint_executes: bool = True) -> Lease:
        """A new scene on a worker reset to `baseline_id`; waits (bounded) when every worker is busy.

        `checkpoint_executes=False` is for callers that rebuild the scene from a baseline themselves
        (the coordinator replays its program every iteration): their restore point stays the last
        baseline, and no .blend is saved after each execute_code.
        """
        worker = await self._acquire(prefer_warm=baseline_id == EMPTY)
        scene_id = "s" + secrets.token_hex(6)
        lease = Lease(scene_id=scene_id, worker=worker, restore_point=baseline_id, checkpoint_executes=checkpoint_executes)
        self._state[worker] = "leased"
        self._leases[scene_id] = lease
        warm = self._idle.is_warm(worker)
        self._idle.cool(worker)
        if warm and baseline_id == EMPTY:
            return lease
        try:  # through the scene: a spare that died idle is replaced before the reset
            _refused(await self.call(scene_id, "reset_to_baseline", {"baseline_id": baseline_id}))
        except BaseException:
            if self._leases.pop(scene_id, None) is not None:
                self._give_back(lease.worker)
            raise
        return lease

    def get(self, scene_id: str) -> Lease:
        lease = self._leases.get(scene_id)
        if lease is None:
            raise UnknownScene(
                f"no scene {scene_id!r}: it was released, expired after {self.config.idle_expiry_s:g} s idle, "
                "or never existed; call reset_to_baseline to get a new scene_id"
            )
        return lease

    def scenes(self) -> list[Lease]:
        return list(self._leases.values())

    async def release(self, scene_id: str) -> None:
        lease = self.get(scene_id)
        async with lease.lock:
            if self._leases.pop(scene_id, None) is None:
                return
            (self.baselines_dir / f"{checkpoint_id(scene_id)}.blend").unlink(missing_ok=True)
            self._give_back(lease.worker)

    async def _acquire(self, prefer_warm: bool) -> Worker:
        if not self.workers:
            raise WorkerUnavailable("the pool has no workers: set [pool] workers or remote in colossus.toml")
        return await self._idle.acquire(prefer_warm, self.size, lambda: len(self._leases))

    async def _put_free(self, worker: Worker, warm: bool) -> None:
        self._state[worker] = "free"
        self._errors.pop(worker, None)
        await self._idle.put(worker, warm)

    def _give_back(self, worker: Worker) -> None:
        """A released worker: reset to `empty` in the background (or restarted, if it is down),
        then offered as a warm spare."""
        if worker.connected:
            self._state[worker] = "cleaning"
            self._spawn(self._clean_task(worker))
        else:
            self._spawn(self._respawn(worker))

    async def _clean_task(self, worker: Worker) -> None:
        if not self.config.warm_spare:
            await self._put_free(worker, warm=False)
            return
        try:
            await self._reset(worker, EMPTY)
        except (WorkerError, WorkerToolError) as e:
            self._errors[worker] = str(e)
            await self._respawn(worker)
            return
        await self._put_free(worker, warm=True)

    # -- calls -------------------------------------------------------------------------------

    def call_timeout(self, tool: str, arguments: dict[str, Any]) -> float:
        if tool in ("execute_code", "execute_and_measure"):
            return float(arguments.get("timeout_s", 30.0)) + self.config.exec_grace_s
        if tool == "measure_programs":  # each program in turn, each with its own timeout
            return len(arguments.get("codes") or [None]) * (float(arguments.get("timeout_s", 30.0)) + self.config.exec_grace_s)
        if tool == "execute_and_render":
            return float(arguments.get("timeout_s", 30.0)) + self.config.exec_grace_s + self.config.render_timeout_s
        if tool == "render_pack" or tool.startswith("export") or tool.startswith("gn_"):
            return self.config.render_timeout_s
        if tool.startswith("asset_"):
            return self.config.asset_timeout_s
        return self.config.call_timeout_s

    async def call(self, scene_id: str, tool: str, arguments: dict[str, Any],
                   timeout_s: float | None = None) -> mcp_types.CallToolResult:
        """Call a worker tool on a scene; the one path that tracks restore points and recovers workers.

        Returns the worker's result (is_error set for the worker's own tool errors). A WorkerError
        is raised after the scene has been moved to a fresh worker, saying what happened.
        """
        lease = self.get(scene_id)
        timeout_s = timeout_s or self.call_timeout(tool, arguments)
        async with lease.lock:
            if scene_id not in self._leases:
                raise UnknownScene(f"scene {scene_id!r} was released while this call waited")
            started = lease.last_used = time.monotonic()
            if not lease.worker.connected:  # an earlier recovery ran out of time: finish it first
                await self._recover(lease, CALL_BUDGET_S / 2)
            try:
                result = await lease.worker.call(tool, arguments, timeout_s)
            except WorkerError as e:
                budget = max(2.0, CALL_BUDGET_S - (time.monotonic() - started))
                note = await self._recover(lease, budget)
                lease.unreported()  # this caller is told right now
                raise type(e)(f"{e}. {note}") from e
            finally:
                lease.last_used = time.monotonic()
            if not result.is_error:
                await restore_points.track(lease, tool, arguments, result, self.config.call_timeout_s)
            return result

    async def _recover(self, lease: Lease, budget_s: float = RESTORE_WAIT_S) -> str:
        """Move the scene to a fresh worker restored from its restore point; returns what was done."""
        dead = lease.worker
        self._state[dead] = "down"
        try:
            worker = self._idle.take(prefer_warm=True) if self._idle else None
            if worker is None:
                await asyncio.wait_for(self._respawn(dead, offer=False), budget_s)
                worker = dead
            else:
                self._spawn(self._respawn(dead))
            self._state[worker] = "leased"
            self._idle.cool(worker)
            lease.worker = worker
            await self._reset(worker, lease.restore_point)
        except TimeoutError:
            note = (f"No worker could be restarted within {budget_s:.0f} s; scene {lease.scene_id} will be "
                    f"restored to {restore_points.describe(lease)} by the next call on it")
            lease.incidents.append(note)
            return note
        except Exception as e:  # noqa: BLE001 - reported to the caller, the scene stays addressable
            note = (f"Restoring scene {lease.scene_id} from {lease.restore_point!r} failed ({e}); "
                    "the next call retries, or release_scene and start again")
            lease.incidents.append(note)
            return note
        note = (f"The worker was restarted; scene {lease.scene_id} now runs on worker {worker.label}, restored to "
                f"{restore_points.describe(lease)}. The call was not completed: retry it if needed")
        lease.incidents.append(note)
        return note

    async def _reset(self, worker: Worker, baseline_id: str) -> None:
        """Reset a worker directly, not through a scene (cleaning a released one, restoring onto a fresh one)."""
        _refused(await worker.call("reset_to_baseline", {"baseline_id": baseline_id}, self.config.call_timeout_s))

    # -- respawn and health --------------------------------------------------------------------

    async def _respawn(self, worker: Worker, offer: bool = True) -> None:
        """Start the worker again, backing off between failures; offers it as a warm spare when up."""
        delay = self.config.backoff_initial_s
        self._state[worker] = "starting"
        while not self._stopping:
            try:
                await worker.start()
                break
            except WorkerUnavailable as e:
                self._errors[worker] = str(e)
                self._state[worker] = "down"
                log.warning("%s; retrying in %.1f s", e, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.backoff_max_s)
        if offer and not self._stopping:
            await self._put_free(worker, warm=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.health_interval_s)
            with contextlib.suppress(Exception):
                await self.check_health()

    async def check_health(self) -> None:
        """Expire idle leases, ping free workers, replace dead or oversized ones."""
        now = time.monotonic()
        for lease in list(self._leases.values()):
            if now - lease.last_used > self.config.idle_expiry_s and not lease.lock.locked():
                log.info("scene %s expired after %.0f s idle", lease.scene_id, now - lease.last_used)
                with contextlib.suppress(Exception):
                    await self.release(lease.scene_id)
        for worker in self._idle.workers():
            if worker.busy or worker not in self._idle:
                continue
            try:
                await worker.ping(self.config.call_timeout_s)
            except (WorkerError, WorkerToolError) as e:
                self._drop_free(worker, str(e))
        await asyncio.gather(*(w.refresh() for w in self.workers), return_exceptions=True)
        for worker in self.workers:
            if self._state.get(worker) in ("starting", "down") or not worker.spec.local:
                continue
            rss = worker.rss_mb()
            if worker.alive() and (rss is None or rss <= self.config.memory_limit_mb * MEMORY_MARGIN):
                continue
            reason = (f"worker {worker.label} used {rss:.0f} MiB, above the {self.config.memory_limit_mb} MiB limit"
                      if worker.alive() else f"worker {worker.label} exited")
            await self._replace(worker, reason, over_memory=worker.alive())

    async def _replace(self, worker: Worker, reason: str, over_memory: bool) -> None:
        lease = next((le for le in self._leases.values() if le.worker is worker), None)
        if lease is None:
            self._drop_free(worker, reason)
            return
        if over_memory:
            worker.kill_reason = WorkerOverMemory(f"{reason}; it was killed")
        worker.kill_now()
        async with lease.lock:
            if lease.worker is worker and lease.scene_id in self._leases:
                note = await self._recover(lease)
                lease.incidents[-1] = str((WorkerOverMemory if over_memory else WorkerCrashed)(f"{reason}. {note}"))

    def _drop_free(self, worker: Worker, reason: str) -> None:
        self._idle.drop(worker)
        self._errors[worker] = reason
        self._state[worker] = "down"
        self._spawn(self._respawn(worker))

    # -- status --------------------------------------------------------------------------------

    def status(self) -> PoolStatus:
        by_worker = {le.worker: le.scene_id for le in self._leases.values()}
        workers = []
        for w in self.workers:
            state = self._state.get(w, "starting")
            if state == "free" and self._idle.is_warm(w):
                state = "warm"
            workers.append(WorkerStatus(label=w.label, state=state, scene_id=by_worker.get(w), pid=w.pid, node=w.node,
                                        rss_mb=w.rss_mb(), memory_guard=w.memory_guard, generation=w.generation, error=self._errors.get(w)))
        return PoolStatus(size=self.size, free=len(self._idle), leased=len(self._leases),
                          waiting=self._idle.waiting, workers=workers)


def _refused(result: mcp_types.CallToolResult) -> None:
    """A worker's refusal of a call ([UNKNOWN_BASELINE] ...) raised as WorkerToolError, its tag kept."""
    if result.is_error:
        raise WorkerToolError(error_text(result))

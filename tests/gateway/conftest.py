"""Fixtures for the gateway: real Blender workers in a small pool (the machine has 2 cores).

Helpers here start pools and gateways; each test module shares one per transport to keep the
suite fast. Nothing is faked: workers are `python -m servers.blender_primary` processes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from fastmcp import Client

from gateway.config import GatewayConfig, PoolConfig
from gateway.workers.pool import Pool

ECHO_SERVER = Path(__file__).parent / "servers" / "echo_server.py"


def pool_config(workdir: Path, **overrides: Any) -> PoolConfig:
    values: dict[str, Any] = dict(workers=2, workdir=workdir, call_timeout_s=20, exec_grace_s=2,
                                  health_interval_s=3600, queue_wait_s=3, backoff_initial_s=0.2)
    values.update(overrides)
    return PoolConfig(**values)


class PollingClient(Client):
    """A 2026-07-28 client that does not declare the tasks extension, as most hosts today: long jobs give it
    their handle at once. (fastmcp's Client declares it whenever fastmcp-tasks has been imported.)"""

    _auto_internal_extensions = False


def gateway_config(workdir: Path, pool: dict[str, Any] | None = None, **tables: Any) -> GatewayConfig:
    """A small gateway offering every toolset (tests/gateway/test_toolsets.py checks the default)."""
    raw: dict[str, Any] = {"pool": {"workers": 1, "workdir": str(workdir / "pool"), "health_interval_s": 3600,
                                    **(pool or {})},
                           "vision": {"enabled": False}, "gateway": {"toolsets": ["all"]}}
    raw.update(tables)
    config = GatewayConfig.from_raw(raw)
    config.runs_dir = workdir / "runs"
    return config


def worker_processes() -> list[psutil.Process]:
    """Blender worker processes that are descendants of this test process."""
    found = []
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "servers.blender_primary" in " ".join(proc.cmdline()):
                found.append(proc)
    return found


def zombies() -> list[psutil.Process]:
    out = []
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if proc.status() == psutil.STATUS_ZOMBIE:
                out.append(proc)
    return out


@pytest.fixture(scope="module")
async def pool(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pool]:
    """Two workers, health checks run by hand (check_health) so tests control their timing."""
    started = Pool(pool_config(tmp_path_factory.mktemp("pool")))
    started.start()
    assert await started.wait_ready(90, count=2) == 2, started.status()
    yield started
    await started.stop()


RAY_OBJECT_STORE = 200 * 2**20  # the machine is shared: small object stores


@pytest.fixture(scope="module")
def ray_cluster() -> Any:
    """A real Ray cluster on this machine: a 0-CPU head and two nodes offering `blender: 1` each."""
    cluster_utils = pytest.importorskip("ray.cluster_utils")
    cluster = cluster_utils.Cluster(initialize_head=True,
                                    head_node_args={"num_cpus": 0, "object_store_memory": RAY_OBJECT_STORE})
    for _ in range(2):
        cluster.add_node(num_cpus=1, resources={"blender": 1}, object_store_memory=RAY_OBJECT_STORE)
    cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()


def ray_pool_config(workdir: Path, cluster: Any, **overrides: Any) -> PoolConfig:
    return pool_config(workdir, backend="ray", ray_address=cluster.address, **overrides)


def blender_processes(marker: str) -> list[psutil.Process]:
    """Blender worker processes anywhere on this machine whose command line holds `marker`."""
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            line = " ".join(proc.cmdline())
            if "servers.blender_primary" in line and marker in line and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found

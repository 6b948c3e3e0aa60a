"""Bad Ray configuration fails at start with a message naming the problem, in seconds rather than a hang."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.config import GatewayConfig
from gateway.errors import ConfigError
from gateway.workers.pool import Pool
from tests.gateway.conftest import RAY_OBJECT_STORE, pool_config

PROJECT = Path(__file__).resolve().parents[2]


def test_gateway_modules_import_without_ray() -> None:
    code = "import sys, gateway.server, gateway.workers.pool, gateway.services, gateway.cli; assert 'ray' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("pool, message", [
    ({"backend": "ray", "remote": ["http://127.0.0.1:9/mcp"]}, "leave `remote` empty"),
    ({"backend": "ray", "transport": "http"}, "set transport = 'stdio'"),
    ({"backend": "slurm"}, "backend"),
])
def test_contradictory_pool_tables_are_refused(pool: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GatewayConfig.from_raw({"pool": pool})


def test_no_cluster_at_the_address_is_a_clear_error_at_start(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"  # nothing listens once closed
    started = time.monotonic()
    with pytest.raises(ConfigError, match=rf"ray_address = '{address}': no Ray cluster answers there"):
        Pool(pool_config(tmp_path, backend="ray", ray_address=address)).start()
    assert time.monotonic() - started < 10


def test_a_cluster_without_the_blender_resource_is_a_clear_error_at_start(tmp_path: Path) -> None:
    cluster_utils = pytest.importorskip("ray.cluster_utils")
    import ray

    cluster = cluster_utils.Cluster(initialize_head=True,
                                    head_node_args={"num_cpus": 1, "object_store_memory": RAY_OBJECT_STORE})
    try:
        started = time.monotonic()
        with pytest.raises(ConfigError, match=r"has no node with the custom resource `blender`.*--resources="):
            Pool(pool_config(tmp_path, backend="ray", ray_address=cluster.address)).start()
        assert time.monotonic() - started < 30
        assert not ray.is_initialized(), "the pool left the cluster it could not use"
    finally:
        cluster.shutdown()


@pytest.mark.parametrize("command", [["serve"], ["run", "examples/tasks/red_block/task.toml"]])
def test_the_cli_reports_a_missing_cluster_and_exits(command: list[str], tmp_path: Path) -> None:
    pytest.importorskip("ray")
    config = tmp_path / "colossus.toml"
    config.write_text('[pool]\nbackend = "ray"\nray_address = "127.0.0.1:1"\nworkers = 1\n')
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "gateway.cli", *command, "--config", str(config)],
                          cwd=PROJECT, input=b"", capture_output=True, timeout=60)
    assert done.returncode == 2 and b"no Ray cluster answers there" in done.stderr, done.stderr[-2000:]
    assert time.monotonic() - started < 30

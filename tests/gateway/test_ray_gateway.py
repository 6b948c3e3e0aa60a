"""The gateway's scene and run tools, unchanged, over a pool on a real two-node Ray cluster.

The tests are test_server.py's own, collected again here with a Ray-backed gateway behind `client`
and `app`: a host cannot tell the backends apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastmcp import Client, FastMCP

from gateway.server import create_gateway
from tests.gateway.conftest import PollingClient, gateway_config, ray_cluster  # noqa: F401 - the module's cluster fixture
from tests.gateway.test_server import (  # noqa: F401 - collected here against the Ray gateway, in this order
    test_scene_tools_build_render_and_release_a_scene,
    test_failing_code_comes_back_as_a_report_with_its_line,
    test_reset_with_a_scene_id_restores_a_saved_baseline,
    test_run_attempt_executes_renders_and_verifies_in_one_call,
    test_verify_compares_images_against_a_reference,
    test_renders_are_readable_as_image_resources,
    # these open their own client while the module's keeps the gateway up (its pool starts once)
    test_start_run_drives_the_coordinator_to_the_end_and_get_run_reports_it,
    test_bad_input_gets_a_specific_error_and_loses_nothing,
)

pytest.importorskip("ray")


@pytest.fixture(scope="module")
def app(ray_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> FastMCP:  # noqa: F811
    workdir = tmp_path_factory.mktemp("ray-gateway")
    return create_gateway(gateway_config(workdir, pool={"backend": "ray", "ray_address": ray_cluster.address, "workers": 2},
                                         vision={"enabled": True}))


@pytest.fixture(scope="module")
async def client(app: FastMCP) -> AsyncIterator[Client]:
    async with PollingClient(app, timeout=60, init_timeout=120) as connected:
        yield connected


async def test_mesh_status_names_the_ray_node_of_each_worker(client: Client) -> None:
    status = (await client.call_tool("mesh_status", {})).structured_content
    nodes = [w["node"] for w in status["pool"]["workers"]]
    assert len(set(nodes)) == 2 and all(nodes), status["pool"]

"""The gateway's Vision client: a dropped vision server is waited for, a reported error is final."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator

import psutil
import pytest
from fastmcp.exceptions import ToolError

from gateway.services import GatewayServices
from harness.launcher import PROJECT_ROOT
from tests.gateway.conftest import gateway_config

REFS = PROJECT_ROOT / "examples" / "tasks" / "red_block" / "ref"
PACK = {view: REFS / f"{view}.png" for view in ("front", "top")}


def vision_pids() -> set[int]:
    """Vision servers below this test process (other modules' gateways may have theirs running too)."""
    found = set()
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a process ending (a zombie) as we read it: not a vision server
            if "servers.viewport_vision" in " ".join(proc.cmdline()):
                found.add(proc.pid)
    return found


@pytest.fixture(scope="module")
async def services(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GatewayServices]:
    config = gateway_config(tmp_path_factory.mktemp("vision"), pool={"workers": 0}, vision={"enabled": True})
    services = GatewayServices(config)
    others = vision_pids()
    await services.start()
    for _ in range(150):
        if services.vision_upstream.state == "available":
            break
        await asyncio.sleep(0.1)
    services.test_vision_pid = (vision_pids() - others).pop()  # ours: the one that appeared with it
    yield services
    await services.stop()


async def test_a_call_while_the_vision_server_is_down_waits_for_the_reconnect(services: GatewayServices) -> None:
    assert services.vision is not None
    before = services.vision_upstream.restarts
    os.kill(services.test_vision_pid, signal.SIGKILL)
    await asyncio.sleep(0.3)
    result = await services.vision.check(PACK, PACK, None)
    assert result.compare is not None and result.compare.score == 1.0
    assert services.vision_upstream.restarts > before


async def test_an_error_the_server_reports_fails_at_once_without_waiting(services: GatewayServices) -> None:
    assert services.vision is not None
    started = time.monotonic()
    with pytest.raises(ToolError, match="no view in common"):
        await services.vision.check({"front": PACK["front"]}, {"top": PACK["top"]}, None)
    assert time.monotonic() - started < 0.5, "a reported error must not go through the reconnect backoff"

"""Fixtures for the Blender worker: a real server over the in-memory fastmcp client.

Each `client` connection runs the server's lifespan, which loads the built-in `empty`
baseline, so every test starts from an empty scene.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client, FastMCP

from servers.blender_primary.server import create_server
from servers.blender_primary.state import WorkerState


@pytest.fixture
def worker_dirs(tmp_path: Path) -> WorkerState:
    """The folders the worker under test owns (inside pytest's tmp_path)."""
    return WorkerState.prepare(tmp_path / "work", tmp_path / "baselines", tmp_path / "output")


@pytest.fixture
def worker_server(worker_dirs: WorkerState) -> FastMCP:
    return create_server(worker_dirs.workdir, worker_dirs.baselines_dir, worker_dirs.output_dir)


@pytest.fixture
async def client(worker_server: FastMCP) -> AsyncIterator[Client]:
    async with Client(worker_server) as connected:
        yield connected


@pytest.fixture
def bpy_eval(client: Client) -> Callable[[str], Awaitable[Any]]:
    """Run a snippet through execute_code and return the JSON it prints last (or None).

    The snippet must succeed; a failed report fails the test with its feedback.
    """

    async def run(code: str) -> Any:
        result = await client.call_tool("execute_code", {"code": code})
        report = result.structured_content
        assert report["success"], report
        lines = [line for line in report["stdout"].splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else None

    return run

"""Gateway errors tell the coordinator why a worker was killed, so the fixer gets the right class; one table
turns our errors into the tool errors a host reads."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fastmcp.exceptions import ToolError

from gateway.errors import BadRequest, UnknownScene, WorkerCrashed, WorkerOverMemory, WorkerTimedOut, tool_errors
from harness.classifier import classify_exit
from harness.report import ErrorClass
from orchestrator.errors import RunNotFound


def test_a_worker_killed_by_the_watchdog_classifies_as_timeout_resource_or_crash() -> None:
    assert classify_exit(WorkerTimedOut("hung").killed_for) is ErrorClass.TIMEOUT
    assert classify_exit(WorkerOverMemory("too big").killed_for) is ErrorClass.RESOURCE
    assert classify_exit(WorkerCrashed("segfault").killed_for) is ErrorClass.CRASH


def test_the_error_text_starts_with_its_stable_tag() -> None:
    assert str(WorkerOverMemory("worker w0 used 900 MiB")) == "[WORKER_MEMORY] worker w0 used 900 MiB"


async def test_one_table_turns_our_errors_into_the_tool_errors_hosts_read() -> None:
    async def raising(error: Exception) -> None:
        raise error

    tool = tool_errors(raising)
    for error, text in [(UnknownScene("no scene 's1'"), "[UNKNOWN_SCENE] no scene 's1'"),
                        (RunNotFound("no run 'r'"), "[BAD_REQUEST] no run 'r'"),
                        (BadRequest("[BAD_ID] kept"), "[BAD_ID] kept"),
                        (ToolError("[BAD_PATH] the worker's own"), "[BAD_PATH] the worker's own")]:
        with pytest.raises(ToolError) as caught:
            await tool(error)
        assert str(caught.value) == text
    with pytest.raises(KeyError):  # not ours: a bug, left for fastmcp to mask
        await tool(KeyError("x"))


def test_the_worker_side_of_the_errors_does_not_load_the_orchestrator() -> None:
    code = "import sys, gateway.errors; print(sorted(m for m in sys.modules if m.startswith('orchestrator')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"

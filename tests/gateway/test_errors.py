"""Gateway errors tell the coordinator why a worker was killed, so the fixer gets the right class."""

from __future__ import annotations

from gateway.errors import WorkerCrashed, WorkerOverMemory, WorkerTimedOut
from harness.classifier import classify_exit
from harness.report import ErrorClass


def test_a_worker_killed_by_the_watchdog_classifies_as_timeout_resource_or_crash() -> None:
    assert classify_exit(WorkerTimedOut("hung").killed_for) is ErrorClass.TIMEOUT
    assert classify_exit(WorkerOverMemory("too big").killed_for) is ErrorClass.RESOURCE
    assert classify_exit(WorkerCrashed("segfault").killed_for) is ErrorClass.CRASH


def test_the_error_text_starts_with_its_stable_tag() -> None:
    assert str(WorkerOverMemory("worker w0 used 900 MiB")) == "[WORKER_MEMORY] worker w0 used 900 MiB"

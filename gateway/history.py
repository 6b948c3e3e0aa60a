"""The execution history of host-driven calls (seed 002's ExecutionHistory): `execute_code` and
`run_attempt` as hosts call them, one JSON line each under `<runs>/.history/executions.jsonl`.

Bounded: past `max_bytes` the file rotates to `executions.jsonl.1` (one older generation is kept),
so the history never holds more than twice that. Each line is written with one append, so a
crash can tear at most the last one; reading skips a line that does not parse rather than lose
the rest. Code and stdout are capped per entry. Coordinator runs are not recorded here: their
iterations are already in their run folders.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from gateway.errors import GatewayError
from harness.report import ExecutionReport

__all__ = ["HistoryEntry", "ExecutionHistory", "MAX_BYTES", "HISTORY_FILE"]

HISTORY_FILE = Path(".history") / "executions.jsonl"  # under the runs folder
MAX_BYTES = 8 * 2**20
MAX_CODE_CHARS = 20_000
MAX_STDOUT_CHARS = 4_000


class HistoryEntry(BaseModel):
    at: float = Field(description="when the call started, Unix time")
    tool: Literal["execute_code", "run_attempt"]
    scene_id: str | None = None
    code: str
    success: bool
    error_class: str | None = Field(None, description="the report's error class (RUNTIME, POLICY, ...) or the gateway "
                                                      "error's tag (WORKER_TIMEOUT, UNKNOWN_SCENE, ...)")
    duration_ms: float
    report: dict[str, Any] | None = Field(None, description="the execution report, stdout capped")
    error: str | None = Field(None, description="the gateway error, when the call did not get a report")


@dataclass
class _Call:
    """What a call fills in while it runs; `recording` writes it when the call ends, however it ends."""

    scene_id: str | None
    report: ExecutionReport | None = None


class ExecutionHistory:
    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    @contextlib.asynccontextmanager
    async def recording(self, tool: Literal["execute_code", "run_attempt"], scene_id: str | None,
                        code: str) -> Any:
        """Record the call around its body: the body sets `.report` (and `.scene_id` once known)."""
        call = _Call(scene_id)
        started, at = time.perf_counter(), time.time()
        error: BaseException | None = None
        try:
            yield call
        except BaseException as e:
            error = e
            raise
        finally:
            self.record(_entry(tool, call, code, at, (time.perf_counter() - started) * 1000, error))

    def record(self, entry: HistoryEntry) -> None:
        line = entry.model_dump_json() + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                if self.path.stat().st_size + len(line) > self.max_bytes:
                    os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            with open(self.path, "ab") as f:
                if f.tell() and _last_byte(self.path) != b"\n":  # a torn line from a crash: start a fresh one
                    line = "\n" + line
                f.write(line.encode())

    def read(self, since: float | None = None, failures: bool = False) -> list[HistoryEntry]:
        """Oldest first; `since` (Unix time) and `failures` filter."""
        return [e for e in self._entries() if (since is None or e.at >= since) and not (failures and e.success)]

    def _entries(self) -> Iterator[HistoryEntry]:
        for path in (self.path.with_name(self.path.name + ".1"), self.path):
            if not path.is_file():
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValidationError, ValueError):
                    yield HistoryEntry.model_validate_json(line)


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1)


def _tag(error: BaseException) -> str:
    """GatewayError's tag, or the `[TAG]` a tool error's text starts with, else the exception's type."""
    if isinstance(error, GatewayError):
        return error.tag
    text = str(error)
    if text.startswith("[") and "]" in text:
        return text[1:text.index("]")]
    return type(error).__name__


def _entry(tool: Literal["execute_code", "run_attempt"], call: _Call, code: str, at: float, duration_ms: float,
           error: BaseException | None) -> HistoryEntry:
    report = call.report
    if report is not None:
        dumped = report.model_dump(mode="json")
        dumped["stdout"] = (dumped.get("stdout") or "")[:MAX_STDOUT_CHARS]
        error_class = None if report.success else report.error_class.value
        return HistoryEntry(at=at, tool=tool, scene_id=call.scene_id, code=code[:MAX_CODE_CHARS],
                            success=report.success and error is None, error_class=error_class,
                            duration_ms=round(duration_ms, 2), report=dumped,
                            error=None if error is None else str(error)[:2000])
    tag = _tag(error) if error is not None else None
    return HistoryEntry(at=at, tool=tool, scene_id=call.scene_id, code=code[:MAX_CODE_CHARS], success=False,
                        error_class=tag, duration_ms=round(duration_ms, 2),
                        error=str(error)[:2000] if error else "no report")

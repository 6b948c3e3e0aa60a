"""Runs one bpy snippet and reports what happened as an ExecutionReport; the `execute_code` tool.

Order: validate (size, syntax, policy) before Blender is touched → exec in a fresh namespace with
stdout/stderr captured, a timeout and the memory guard armed → classify any failure → diff the scene.
A snippet can fail in every way short of killing the process (SystemExit, sys.exit, quit
operators: see exit_guard) and the worker keeps serving.

The timeout (harness.platform_calls.interrupt_main_after: an alarm signal on POSIX, a watchdog
thread elsewhere) interrupts pure-Python hangs such as `while True: pass`, and on POSIX
`time.sleep`. It cannot interrupt a long call into C code (a render, a heavy operator, a big numpy
product): the exception lands only when that call returns, so the report comes late but still
says TIMEOUT. A call that never returns is the gateway watchdog's job: it kills and respawns the
worker. A MemoryError (the worker's memory guard, servers/blender_primary/memory_guard.py) is
reported with the limit, and the scene is kept.
"""

from __future__ import annotations

import builtins
import io
import json
import linecache
import math
import random
import time
import traceback
from contextlib import nullcontext, redirect_stderr, redirect_stdout
from typing import Annotated

import bmesh
import bpy
import mathutils
from fastmcp import Context, FastMCP
from pydantic import Field

from harness.classifier import classify_exception
from harness.errors import CodeRejected
from harness.platform_calls import interrupt_main_after
from harness.report import ErrorClass, ExceptionInfo, ExecutionReport, SceneDelta
from harness.validator import RANDOM_SEED, SNIPPET_FILENAME, Policy, validate
from servers.blender_primary.exit_guard import QuitRefused
from servers.blender_primary.memory_guard import MemoryGuard
from servers.blender_primary.state import worker_state

__all__ = ["SnippetTimeout", "run_snippet", "register", "Code", "TimeoutS"]

TAIL_CHARS = 8000


class SnippetTimeout(BaseException):
    """Raised in the main thread at the timeout; a BaseException so `except Exception` in a snippet cannot swallow it."""


def run_snippet(code: str, timeout_s: float = 30.0, policy: Policy = Policy.LOG, tools: object | None = None,
                memory: MemoryGuard | None = None) -> ExecutionReport:
    """`tools`: the worker's SnippetTools, offered to the code as `tools` (None: the name is not defined).
    `memory`: the worker's memory guard, watching while the code runs."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    report = ExecutionReport(success=False, blender_version=bpy.app.version_string)
    try:
        validated = validate(code, policy)
    except CodeRejected as rejected:
        report.error_class, report.exception = rejected.error_class, rejected.info
        report.timings = {"validate": time.perf_counter() - t0, "total": time.perf_counter() - t0}
        return report
    report.warnings = validated.warnings
    compiled = compile(validated.tree, SNIPPET_FILENAME, "exec")
    linecache.cache[SNIPPET_FILENAME] = (len(code), None, code.splitlines(True), SNIPPET_FILENAME)
    timings["validate"] = time.perf_counter() - t0

    before = _snapshot()
    out, err = _Tail(TAIL_CHARS), _Tail(TAIL_CHARS)
    t1 = time.perf_counter()
    try:
        with (redirect_stdout(out), redirect_stderr(err), memory.watching() if memory else nullcontext(),
              interrupt_main_after(timeout_s, SnippetTimeout)):
            exec(compiled, _namespace(tools))
        report.success = True
    except SnippetTimeout as exc:
        report.error_class = ErrorClass.TIMEOUT
        report.exception = _exception_info(exc, f"snippet still running after {timeout_s:g} s; interrupted")
    except MemoryError as exc:
        report.error_class = ErrorClass.RESOURCE
        limit = f"this worker's {memory.limit_mb} MiB limit" if memory and memory.limit_mb else "the memory available"
        report.exception = _exception_info(exc, f"out of memory: the snippet asked for more than {limit} "
                                                f"({type(exc).__name__}); the scene was kept")
    except BaseException as exc:  # whatever the snippet raised (KeyboardInterrupt too) becomes the report
        report.error_class = classify_exception(exc)
        report.exception = _exception_info(exc)
    timings["execute"] = time.perf_counter() - t1
    if bpy.context.mode != "OBJECT":
        report.warnings.append(_back_to_object_mode())

    t2 = time.perf_counter()
    report.scene_delta = _delta(before, _snapshot())
    timings["scene_delta"] = time.perf_counter() - t2
    report.stdout, report.stderr = out.getvalue(), err.getvalue()
    timings["total"] = time.perf_counter() - t0
    report.timings = timings
    return report


class _Tail(io.TextIOBase):
    """A text stream that keeps only its last `limit` characters: a print loop cannot eat the worker's memory."""

    def __init__(self, limit: int) -> None:
        self.limit, self.parts, self.size = limit, [], 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.size += len(text)
        if self.size > 4 * self.limit:
            kept = "".join(self.parts)[-self.limit :]
            self.parts, self.size = [kept], len(kept)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts)[-self.limit :]


def _back_to_object_mode() -> str:
    """Leave edit/sculpt/… mode so scene facts, renders and saves see the snippet's edits."""
    mode = bpy.context.mode
    try:
        bpy.ops.object.mode_set(mode="OBJECT")
    except RuntimeError as exc:
        return f"the snippet left Blender in {mode} mode and switching back to OBJECT failed: {exc}"
    return f"the snippet left Blender in {mode} mode; switched back to OBJECT mode"


def _namespace(tools: object | None) -> dict[str, object]:
    random.seed(RANDOM_SEED)  # the same program builds the same scene
    return {
        **({"tools": tools} if tools is not None else {}),
        "__name__": "__main__",
        "__builtins__": builtins,
        "bpy": bpy,
        "bmesh": bmesh,
        "mathutils": mathutils,
        "Vector": mathutils.Vector,
        "Matrix": mathutils.Matrix,
        "Euler": mathutils.Euler,
        "Color": mathutils.Color,
        "Quaternion": mathutils.Quaternion,
        "math": math,
        "random": random,
        "json": json,
    }


def _exception_info(exc: BaseException, message: str | None = None) -> ExceptionInfo:
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == SNIPPET_FILENAME:
            line = lineno
    tb = exc.__traceback__.tb_next if exc.__traceback__ else None  # drop this module's exec frame
    if isinstance(exc, QuitRefused):
        message = message or f"{exc}; the worker keeps running"
    elif isinstance(exc, SystemExit):
        message = message or f"the snippet tried to exit (code {exc.code!r}); the worker keeps running"
    return ExceptionInfo(
        type=type(exc).__name__,
        message=message or str(exc),
        traceback="".join(traceback.format_exception(type(exc), exc, tb))[-TAIL_CHARS:],
        line=line,
    )


def _snapshot() -> dict[str, tuple]:
    """A cheap fingerprint per object: enough to tell added / removed / changed."""
    facts = {}
    for obj in bpy.data.objects:
        data = obj.data
        geometry = (len(data.vertices), len(data.polygons)) if obj.type == "MESH" else ()
        facts[obj.name] = (
            obj.type,
            tuple(round(v, 6) for row in obj.matrix_basis for v in row),  # matrix_world lags until the depsgraph updates
            data.name if data else None,
            tuple(slot.material.name if slot.material else None for slot in obj.material_slots),
            tuple(m.name for m in obj.modifiers),
            obj.parent.name if obj.parent else None,
            geometry,
        )
    return facts


def _delta(before: dict[str, tuple], after: dict[str, tuple]) -> SceneDelta:
    return SceneDelta(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        changed=sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
    )


Code = Annotated[str, Field(description="Python source run with bpy, bmesh, mathutils (Vector, Matrix, Euler, Color, Quaternion), math, random (seeded 0), json already imported, and `tools`: this worker's corrective and geometry-node tools as functions, e.g. tools.transform_to_floor(names=['Cube'])")]
TimeoutS = Annotated[float, Field(gt=0, le=3600, description="interrupt pure-Python work after this many seconds")]


def register(mcp: FastMCP) -> None:
    @mcp.tool(output_schema=None)
    async def execute_code(code: Code, ctx: Context, timeout_s: TimeoutS = 30.0) -> ExecutionReport:
        """Run a bpy snippet in the scene; a failing snippet comes back as a report with success=false (error line
        and class, stdout, scene changes), never as an error."""
        state = worker_state(ctx)
        return run_snippet(code, timeout_s, state.code_policy, state.tools, state.memory_guard)

"""The execution report: what running one bpy snippet did, as data every layer can read.

It crosses process boundaries (Blender worker → gateway → coordinator → run artifacts), so it
imports nothing from Blender and serialises losslessly to JSON.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

__all__ = ["ErrorClass", "ExceptionInfo", "SceneDelta", "ExecutionReport"]


class ErrorClass(str, Enum):
    """Why a snippet failed, in the terms a fixer needs (see harness.classifier)."""

    NONE = "NONE"
    SYNTAX = "SYNTAX"
    RUNTIME = "RUNTIME"
    BLENDER_CONTEXT = "BLENDER_CONTEXT"
    RESOURCE = "RESOURCE"
    TIMEOUT = "TIMEOUT"
    CRASH = "CRASH"
    POLICY = "POLICY"
    UNKNOWN = "UNKNOWN"


class ExceptionInfo(BaseModel):
    type: str
    message: str
    traceback: str = ""
    line: int | None = Field(None, description="1-based line in the snippet where it was raised")
    column: int | None = None


class SceneDelta(BaseModel):
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)


class ExecutionReport(BaseModel):
    success: bool
    stdout: str = ""
    stderr: str = ""
    exception: ExceptionInfo | None = None
    error_class: ErrorClass = ErrorClass.NONE
    warnings: list[str] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per phase")
    scene_delta: SceneDelta = Field(default_factory=SceneDelta)
    blender_version: str = ""

    def feedback(self) -> str:
        """A compact text a builder model can act on."""
        if self.success:
            return "Executed successfully." + (f" Warnings: {'; '.join(self.warnings)}" if self.warnings else "")
        exc = self.exception
        where = f" at line {exc.line}" if exc and exc.line else ""
        head = f"{self.error_class.value}{where}: {exc.type}: {exc.message}" if exc else self.error_class.value
        tail = exc.traceback[-1500:] if exc and exc.traceback else self.stderr[-1500:]
        return f"{head}\n{tail}".strip()

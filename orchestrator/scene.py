"""The seams through which the coordinator sees Blender and vision.

The orchestrator never imports fastmcp or bpy: the gateway's pool implements `Scene` and
`SceneProvider` over leased MCP clients, and the gateway's vision client implements `Vision`
over the viewport-vision server. Tests drive those real implementations.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncContextManager, Protocol, runtime_checkable

from harness.measure_types import MeasuredRun
from harness.report import ExecutionReport
from harness.scene_types import ExecutedRender, RenderSettings, SceneInfo

if TYPE_CHECKING:  # written by the vision helper; imported lazily so this module stays importable alone
    from harness.blueprint_types import Blueprint, BlueprintReport
    from harness.vision_types import CheckResult, CritiqueTurn, Look, VerifierOutput

__all__ = ["Scene", "SceneProvider", "Vision"]


@runtime_checkable
class Scene(Protocol):
    """One leased Blender worker, addressed by the handle the gateway minted."""

    scene_id: str

    async def execute(self, code: str, timeout_s: float = 60.0) -> ExecutionReport: ...
    async def info(self) -> SceneInfo: ...
    async def reset(self, baseline_id: str) -> None: ...
    async def save_baseline(self, name: str) -> None: ...  # also the gateway's respawn checkpoint
    async def save_blend(self, dest: Path) -> Path: ...  # copies the .blend to dest (run folder)
    # run the code and, only when it succeeded, render the pack (PNGs under dest_dir, scene facts included);
    # SceneFault when the pack rendered but could not be delivered there
    async def execute_and_render(self, code: str, settings: RenderSettings, dest_dir: Path,
                                 timeout_s: float = 60.0) -> ExecutedRender: ...
    # each program run from baseline_id and, only when it succeeded, its subject measured through every view's
    # camera (no render), in one call; the scene is left as the last program built it
    async def measure_programs(self, codes: list[str], settings: RenderSettings, baseline_id: str,
                               timeout_s: float = 60.0) -> list[MeasuredRun]: ...
    # the worker tools code may call as `tools.<name>(...)` (harness.scene_types.SNIPPET_TOOLS), each as
    # {name, description, parameters (JSON schema)}: what a tool-using builder offers its model
    def tool_specs(self) -> list[dict[str, Any]]: ...


@runtime_checkable
class SceneProvider(Protocol):
    """The pool: one lease per attempt; leases queue when every worker is busy."""

    def lease(self, baseline_id: str = "empty") -> AsyncContextManager[Scene]: ...

    @property
    def size(self) -> int: ...  # number of workers

    async def import_baseline(self, blend: Path) -> str: ...  # a task's .blend → the baseline id to lease with


@runtime_checkable
class Vision(Protocol):
    """Evaluators: they look at images and never execute code."""

    async def check(  # sentinel, plus metrics against the references when given: one call
        self, renders: dict[str, Path], references: dict[str, Path] | None, scene_info: SceneInfo | None
    ) -> "CheckResult": ...
    # plan renders (plan_<view>) against the task's drawings, in metres (DESIGN.md "Blueprints")
    async def blueprint(self, renders: dict[str, Path], blueprint: "Blueprint") -> "BlueprintReport": ...
    async def critique(
        self, images: dict[str, Path], task: str, reference: dict[str, Path] | None
    ) -> "VerifierOutput": ...
    # the critique in turns: a verdict, or extra looks wanted first (the caller renders them and asks again)
    async def investigate(
        self, images: dict[str, Path], task: str, reference: dict[str, Path] | None, looks: "list[Look]", max_looks: int,
        models: list[str] | None = None,  # the run's verifier chain, when it names one
    ) -> "CritiqueTurn": ...

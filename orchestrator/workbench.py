"""The leased scene as a tool-using builder acts on it during one iteration, every change kept as code.

The builder's tool calls change the live scene, but an iteration must still be one program run
from the baseline (isolation by baseline reload, `colossus resume`, final_scene.blend). So the
workbench records each change that succeeded as code (`program`); a call that failed part-way
rebuilds the scene from the baseline and the recorded program, so the live scene always equals
what `program` builds. When the turn ends, the loop runs `program` from the baseline as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from harness.measure_types import MeasuredRun
from harness.report import ErrorClass, ExecutionReport
from harness.validator import RANDOM_SEED
from harness.scene_types import RenderSettings, SceneInfo, ViewName
from orchestrator.errors import SceneFault
from orchestrator.scene import Scene

__all__ = ["Workbench"]


class Workbench:
    def __init__(self, scene: Scene, reset: Callable[[], Awaitable[None]], render: RenderSettings,
                 looks_dir: Path, timeout_s: float, baseline: str = "empty",
                 settle: Callable[[], Awaitable[None]] | None = None) -> None:
        """`reset` brings the scene back to `baseline`, the attempt's (the loop's reset, which may already be
        under way); `settle` waits for such a reset under way without starting one."""
        self.scene, self._reset, self.render = scene, reset, render
        self.looks_dir, self.timeout_s = looks_dir, timeout_s
        self.baseline, self._settle = baseline, settle
        self.program: list[str] = []
        self.looks: list[Path] = []

    @property
    def code(self) -> str:
        """The recorded parts as one program. The worker seeds `random` afresh for every call, so a later
        part that uses it is reseeded here too: the replay draws what the live call drew."""
        parts = [part if part.endswith("\n") else part + "\n" for part in self.program]
        return "".join(f"random.seed({RANDOM_SEED})  # as when this part ran on its own\n{part}"
                       if n and "random" in part else part for n, part in enumerate(parts))

    async def begin(self, base: str) -> ExecutionReport | None:
        """Baseline, then `base` (the best program so far, or the task's start program) when there is one."""
        await self._reset()
        self.program = []
        return await self.run(base) if base.strip() else None

    async def run(self, code: str) -> ExecutionReport:
        """Run code on the scene as it is; kept in the program when it succeeds, else the scene is rebuilt."""
        report = await self.scene.execute(code, timeout_s=self.timeout_s)
        if report.success:
            self.program.append(code)
        elif report.error_class not in (ErrorClass.SYNTAX, ErrorClass.POLICY):  # those never ran: nothing to undo
            await self._rebuild()
        return report

    async def start_over(self) -> None:
        """Back to the baseline with an empty program."""
        await self._reset()
        self.program = []

    async def measure(self, codes: list[str]) -> list[MeasuredRun]:
        """Each program run from the baseline and its subject measured through the task's cameras, no render, all in
        one worker call (the live scene is left as the last one built it: call begin or start_over before using it
        again)."""
        if self._settle is not None:  # a reset still running on the scene would race the call
            await self._settle()
        return await self.scene.measure_programs(codes, self.render, self.baseline, timeout_s=self.timeout_s)

    async def info(self) -> SceneInfo:
        return await self.scene.info()

    async def look(self, view: ViewName) -> Path:
        """One view of the scene as it is now (the task's camera settings), saved under looks/."""
        settings = self.render.model_copy(update={"views": [view]})
        dest = self.looks_dir / f"builder-{len(self.looks) + 1}"
        done = await self.scene.execute_and_render("pass", settings, dest, timeout_s=self.timeout_s)
        if done.render is None:
            raise SceneFault(f"look at the {view} view failed: {done.render_error or done.report.feedback()}")
        path = Path(done.render.views[view].path)
        self.looks.append(path)
        return path

    def tool_specs(self) -> list[dict[str, Any]]:
        return self.scene.tool_specs()

    async def _rebuild(self) -> None:
        await self._reset()
        if self.program:
            replay = await self.scene.execute(self.code, timeout_s=self.timeout_s)
            if not replay.success:  # it ran step by step a moment ago: a scene that differs now is ours
                raise SceneFault(f"replaying the recorded program failed: {replay.feedback()}")

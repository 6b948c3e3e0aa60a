"""What one worker owns for its lifetime: its folders. Built by the server's lifespan.

Tools reach it through the injected Context (`worker_state(ctx)`), never through globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastmcp import Context

from harness.validator import Policy

__all__ = ["WorkerState", "worker_state"]


@dataclass(frozen=True)
class WorkerState:
    workdir: Path
    baselines_dir: Path   # shared by the workers of one pool
    output_dir: Path      # save_blend / export_scene write here only
    renders_dir: Path     # render_pack PNGs
    code_policy: Policy = Policy.LOG
    tools: Any = None     # servers.blender_primary.snippet_tools.SnippetTools: `tools` in every snippet
    memory_guard: Any = None  # servers.blender_primary.memory_guard.MemoryGuard: watches every snippet

    @classmethod
    def prepare(
        cls,
        workdir: Path,
        baselines_dir: Path | None = None,
        output_dir: Path | None = None,
        code_policy: Policy = Policy.LOG,
        tools: Any = None,
        memory_guard: Any = None,
    ) -> WorkerState:
        workdir = Path(workdir).resolve()
        state = cls(
            workdir=workdir,
            baselines_dir=Path(baselines_dir or workdir / "baselines").resolve(),
            output_dir=Path(output_dir or workdir / "output").resolve(),
            renders_dir=workdir / "renders",
            code_policy=Policy(code_policy),
            tools=tools,
            memory_guard=memory_guard,
        )
        for folder in (state.workdir, state.baselines_dir, state.output_dir, state.renders_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return state


def worker_state(ctx: Context) -> WorkerState:
    """The WorkerState the lifespan yielded, as seen from inside a tool."""
    return ctx.lifespan_context["state"]

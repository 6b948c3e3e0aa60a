"""`colossus render PROGRAM.py --out DIR [--task TASK.toml]`: run a bpy program in a fresh scene and render its camera pack.

One worker is started through the launcher (stdio), the program runs in the built-in `empty`
baseline, and DIR receives `execution.json`, one `<view>.png` per view and the worker's log (`worker.log`). A failing program
exits non-zero with the report's error; nothing is rendered then.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import tempfile
import tomllib
from pathlib import Path

from harness.report import ExecutionReport
from harness.scene_types import VIEW_NAMES, RenderPackResult, RenderSettings

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", type=Path, help="a Python file using bpy")
    parser.add_argument("--out", type=Path, required=True, help="folder for <view>.png and execution.json")
    parser.add_argument("--task", type=Path, help="take the camera pack settings (and the views of its references) from this task.toml")
    parser.add_argument("--views", nargs="+", choices=VIEW_NAMES)
    parser.add_argument("--preset", choices=["preview", "final"])
    parser.add_argument("--resolution", type=int)
    parser.add_argument("--framing", choices=["fixed", "auto"])
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds the program may run")
    parser.add_argument("--blender", type=Path, help="use this Blender executable instead of the bpy wheel")


def run(args: argparse.Namespace) -> int:
    if not args.program.is_file():
        print(f"colossus render: no such program: {args.program}", file=sys.stderr)
        return 2
    try:
        settings = _settings(args)
    except (OSError, ValueError) as exc:
        print(f"colossus render: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_render(args.program.read_text(), args.out, settings, args.timeout, args.blender))


def _settings(args: argparse.Namespace) -> RenderSettings:
    """Defaults, then the task's [render] table and reference views, then explicit flags."""
    base: dict[str, object] = {}
    if args.task:
        table = tomllib.loads(args.task.read_text(encoding="utf-8"))
        base = dict(table.get("render", {}))
        if refs := table.get("reference"):
            base["views"] = list(refs)
    flags = {"views": args.views, "preset": args.preset, "resolution": args.resolution, "framing": args.framing}
    return RenderSettings.model_validate(base | {k: v for k, v in flags.items() if v is not None})


async def _render(code: str, out: Path, settings: RenderSettings, timeout_s: float, blender: Path | None) -> int:
    from fastmcp import Client  # noqa: PLC0415  (only this command pays for it)

    from harness.errors import LaunchError  # noqa: PLC0415
    from harness.launcher import WorkerLaunch  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="colossus-render-") as tmp:
        try:
            launch = WorkerLaunch(mode="binary" if blender else "bpy", blender_binary=blender, workdir=Path(tmp) / "worker")
            transport = launch.stdio_transport(log_file=out / "worker.log")
        except LaunchError as exc:
            print(f"colossus render: {exc}", file=sys.stderr)
            return 2
        async with Client(transport, timeout=timeout_s + 60) as client:
            executed = await client.call_tool("execute_code", {"code": code, "timeout_s": timeout_s})
            report = ExecutionReport.model_validate(executed.structured_content)
            (out / "execution.json").write_text(report.model_dump_json(indent=2))
            if not report.success:
                print(f"colossus render: the program failed\n{report.feedback()}", file=sys.stderr)
                return 1
            rendered = await client.call_tool("render_pack", settings.model_dump(mode="json"))
    pack = RenderPackResult.model_validate(rendered.structured_content)
    for view, image in zip(pack.views, rendered.content, strict=True):
        (out / f"{view}.png").write_bytes(base64.b64decode(image.data))
    print(json.dumps({"out": str(out), "views": list(pack.views), "render_ms": round(pack.total_ms, 1)}))
    return 0

"""`colossus finalize SOURCE --profile NAME [--out DIR] [--json]`: an engine-ready asset from a run or a mesh file.

Two stdio workers are started for the job: one runs the stages, the other is the fresh worker
the exported files are re-imported into for the round-trip check. Progress goes to stderr; with
`--json` one object (outputs, lods, valid, ...) is the last line on stdout. A bad source or
profile exits 2 before any worker starts; a failed stage exits 1 and leaves nothing in DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config_file import config_path, load_config
from orchestrator.assets.profiles import Profile, finalize_config, load_profile
from orchestrator.assets.source import AssetSource, resolve_source
from orchestrator.errors import AssetError, OrchestratorError

if TYPE_CHECKING:  # the pipeline (and fastmcp) load only when a job runs
    from orchestrator.assets.pipeline import FinalizeResult

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path, help="a run folder, or a .blend/.obj/.fbx/.glb/.gltf/.stl/.ply file")
    parser.add_argument("--profile", required=True, help="unity, unreal, godot, gltf-web, mobile, or one of your own")
    parser.add_argument("--out", type=Path, help="output folder (default for a run folder: RUN/asset/<profile>)")
    parser.add_argument("--name", help="asset name used for objects and files (default: the source's name)")
    parser.add_argument("--objects", nargs="+", metavar="NAME",
                        help="only these mesh objects (e.g. leave a run's ground plane out); default: every mesh")
    parser.add_argument("--json", action="store_true", help="print one JSON object last on stdout")
    parser.add_argument("--config", help="colossus.toml (its [finalize] profiles_dir)")
    parser.add_argument("--blender", type=Path, help="use this Blender executable instead of the bpy wheel")


def run(args: argparse.Namespace) -> int:
    try:
        config = finalize_config(load_config(args.config), config_path(args.config))
        profile = load_profile(args.profile, config.profiles_dir)
        source = resolve_source(args.source).model_copy(update={"objects": args.objects})
    except (AssetError, FileNotFoundError, ValueError) as e:
        print(f"colossus finalize: {e}", file=sys.stderr)
        return 2
    out = args.out or (source.run_dir / "asset" / profile.name if source.run_dir else None)
    if out is None:
        print("colossus finalize: --out is required unless SOURCE is a run folder", file=sys.stderr)
        return 2
    if out.exists() and not out.is_dir():
        print(f"colossus finalize: --out {out} exists and is not a folder", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(_finalize(source, profile, out.resolve(), args.name or source.name, args.blender))
    except AssetError as e:
        print(f"colossus finalize: {e}", file=sys.stderr)
        return 1
    if source.run_dir is not None:
        _rewrite_report(source.run_dir)
    if args.json:
        print(json.dumps(result.model_dump(mode="json")))
    else:
        print(f"{'valid' if result.valid else 'NOT valid'}: {out / 'validation.json'}")
        for lod in result.lods:
            print(f"  {lod.name}: {lod.triangles} triangles")
    return 0


def _rewrite_report(run_dir: Path) -> None:
    """The run's report.html, now with the asset's card; a run folder without a checkpoint keeps its report."""
    from orchestrator.service import RunService  # noqa: PLC0415

    try:
        RunService(None, None, run_dir.parent).write_report(run_dir.name)
    except (OrchestratorError, OSError, ValueError) as e:
        print(f"colossus finalize: report.html not rewritten: {e}", file=sys.stderr)


async def _finalize(source: AssetSource, profile: Profile, out: Path, name: str, blender: Path | None) -> FinalizeResult:
    from contextlib import AsyncExitStack  # noqa: PLC0415  (only this command pays for fastmcp)

    from fastmcp import Client  # noqa: PLC0415

    from gateway.workers.asset_adapters import ClientWorker  # noqa: PLC0415
    from harness.errors import LaunchError  # noqa: PLC0415
    from harness.launcher import WorkerLaunch  # noqa: PLC0415
    from orchestrator.assets.pipeline import finalize  # noqa: PLC0415

    async def progress(stage: str, index: int, total: int) -> None:
        print(f"[{index + 1}/{total}] {stage}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="colossus-finalize-") as tmp:
        async with AsyncExitStack() as stack:
            clients = []
            for role in ("stages", "check"):
                try:
                    launch = WorkerLaunch(mode="binary" if blender else "bpy", blender_binary=blender,
                                          workdir=Path(tmp) / role)
                    transport = launch.stdio_transport(log_file=Path(tmp) / f"{role}.log")
                except LaunchError as e:
                    raise AssetError(f"could not start a Blender worker: {e}") from e
                clients.append(Client(transport, timeout=None))
            await asyncio.gather(*(stack.enter_async_context(c) for c in clients))
            return await finalize(source.path, profile, out, ClientWorker(clients[0]), ClientWorker(clients[1]),
                                  name=name, progress=progress, objects=source.objects)

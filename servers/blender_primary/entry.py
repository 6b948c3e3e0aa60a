"""Starts one worker: parse arguments, divert stdout, build the server, serve stdio or HTTP.

Run as `python -m servers.blender_primary ...` (the bpy wheel) or as a script inside a Blender
binary (`blender -b --python entry.py -- ...`); in the latter the project root is put on
sys.path first and only the arguments after `--` are ours.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by a Blender binary
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from servers.blender_primary.parent_watch import watch_parent  # noqa: E402  (no bpy import yet)
from servers.blender_primary.stdio_guard import divert_stdout  # noqa: E402

__all__ = ["main"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="servers.blender_primary", description="MCP server inside one Blender process")
    parser.add_argument("--workdir", type=Path, required=True, help="this worker's own folder")
    parser.add_argument("--baselines-dir", type=Path, help="baselines shared by a pool (default WORKDIR/baselines)")
    parser.add_argument("--output-dir", type=Path, help="where save_blend/export_scene write (default WORKDIR/output)")
    parser.add_argument("--code-policy", choices=["log", "block"], default="log")
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP at /mcp instead of stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    args = parse_args(argv)
    watch_parent()
    wire_fd = None if args.http else divert_stdout()

    # bpy is imported by the server module, after the diversion
    from harness.serving import run, serve_stdio  # noqa: PLC0415
    from servers.blender_primary.server import create_server  # noqa: PLC0415
    from servers.blender_primary.transport import serve_http  # noqa: PLC0415

    mcp = create_server(args.workdir, args.baselines_dir, args.output_dir, args.code_policy)
    run(serve_http(mcp, args.host, args.port) if wire_fd is None else serve_stdio(mcp, wire_fd))
    return 0


if __name__ == "__main__":
    sys.exit(main())

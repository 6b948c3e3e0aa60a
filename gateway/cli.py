"""The `colossus` command line: one parser, each subcommand's work in the module that owns it.

Subcommand modules are imported only when chosen, so `colossus --help` stays fast and no
command pays for another's imports (litellm, bpy workers, uvicorn).
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main"]

# subcommand → module exposing `add_arguments(parser)` and `run(args) -> int`
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("gateway.commands.serve", "serve the MCP gateway over stdio (default) or streamable HTTP"),
    "render": ("gateway.commands.render", "run a bpy program in a fresh scene and render its camera pack"),
    "run": ("gateway.commands.run", "run the inverse-graphics loop on a task file (parallel attempts, best of N)"),
    "demo": ("gateway.commands.demo", "run a bundled example task offline (parametric builder, metrics verifier)"),
    "runs": ("gateway.commands.runs", "list runs, newest first"),
    "show": ("gateway.commands.show", "show a run's attempts, scores and best result"),
    "report": ("gateway.commands.report", "rewrite a run's report.html and print its path"),
    "resume": ("gateway.commands.resume", "continue a run from its checkpoint"),
    "fork": ("gateway.commands.fork", "start a new run from one iteration of a run (its program and memory)"),
    "models": ("gateway.commands.models", "check the configured model roles"),
    "finalize": ("gateway.commands.finalize", "turn a run's best scene or a mesh file into an engine-ready asset"),
    "history": ("gateway.commands.history", "the execution history of host-driven execute_code / run_attempt calls"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colossus", description="Colossus: agents that model in Blender.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text)
        sp.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(sp)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(importlib.import_module(args._module).run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

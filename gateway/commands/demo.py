"""`colossus demo`: the first bundled example task, run offline (parametric builder, metrics verifier).

Needs no model and no network: the builder tunes the start program's `# param` literals until its
renders match the reference renders shipped with the task.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.commands.run import add_run_options, execute, overrides

__all__ = ["add_arguments", "run", "EXAMPLES", "DEMO_TASK"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tasks"
DEMO_ITERATIONS = 80
DEMO_TASK = "red_block"  # colour, size and placement: the search has something to find in every view


def add_arguments(parser: argparse.ArgumentParser) -> None:
    tasks = sorted(p.name for p in EXAMPLES.iterdir() if (p / "task.toml").is_file()) if EXAMPLES.is_dir() else []
    parser.add_argument("--task", choices=tasks or None, default=DEMO_TASK if DEMO_TASK in tasks else None,
                        help=f"which example (default: {DEMO_TASK})")
    add_run_options(parser)
    parser.set_defaults(builder="parametric", verifier="metrics", iterations=DEMO_ITERATIONS)


def run(args: argparse.Namespace) -> int:
    if args.task is None:
        print(f"colossus demo: no example tasks under {EXAMPLES}")
        return 2
    task = EXAMPLES / args.task / "task.toml"
    return execute(args, lambda service: service.plan_start(task, **overrides(args)),
                   lambda service: service.start(task, **overrides(args)), args.iterations)

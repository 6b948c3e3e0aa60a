"""`colossus report RUN`: (re)write a run's report.html from its checkpoint and print its path."""

from __future__ import annotations

import argparse
import sys

from gateway.commands.runs import add_arguments as add_common, offline_service

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id")
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    from orchestrator.errors import RunNotFound

    try:
        path = offline_service(args).write_report(args.run_id)
    except RunNotFound as e:
        print(f"colossus report: {e}", file=sys.stderr)
        return 2
    print(path)
    return 0

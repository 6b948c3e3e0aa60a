"""`colossus resume RUN`: continue a run from its checkpoint (e.g. after the process was killed)."""

from __future__ import annotations

import argparse

from gateway.commands.run import add_session_options, execute

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", help="run folder name under the runs directory (see `colossus runs`)")
    add_session_options(parser)


def run(args: argparse.Namespace) -> int:
    return execute(args, lambda service: service.plan_resume(args.run_id), lambda service: service.resume(args.run_id))

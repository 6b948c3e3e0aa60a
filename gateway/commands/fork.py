"""`colossus fork RUN --attempt A --iteration K`: a new run whose attempts begin from that iteration.

Options default to the source run's; the ones given override them, as for `colossus run`.
"""

from __future__ import annotations

import argparse

from gateway.commands.run import add_run_options, execute, overrides

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", help="run folder name under the runs directory (see `colossus runs`)")
    parser.add_argument("--attempt", type=int, required=True, help="attempt of that run to fork from")
    parser.add_argument("--iteration", type=int, required=True, help="its completed iteration to start from")
    add_run_options(parser, source="the source run's")


def run(args: argparse.Namespace) -> int:
    return execute(args, lambda service: service.plan_fork(args.run_id, args.attempt, args.iteration, **overrides(args)),
                   lambda service: service.fork(args.run_id, args.attempt, args.iteration, **overrides(args)),
                   args.iterations or 0)

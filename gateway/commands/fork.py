"""`colossus fork RUN --attempt A --iteration K`: a new run whose attempts begin from that iteration.

Options default to the source run's; the ones given override them, as for `colossus run`.
"""

from __future__ import annotations

import argparse

from gateway.commands.run import add_session_options, execute, overrides

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", help="run folder name under the runs directory (see `colossus runs`)")
    parser.add_argument("--attempt", type=int, required=True, help="attempt of that run to fork from")
    parser.add_argument("--iteration", type=int, required=True, help="its completed iteration to start from")
    parser.add_argument("--builder", choices=["llm", "parametric", "hybrid"], help="default: the source run's")
    parser.add_argument("--verifier", choices=["vlm", "metrics", "both"], help="default: the source run's")
    parser.add_argument("--attempts", type=int, help="parallel attempts (default: the source run's)")
    parser.add_argument("--iterations", type=int, help="iterations per attempt (default: the source run's)")
    parser.add_argument("--max-cost-usd", type=float, help="stop the run once its model spend reaches this (status budget)")
    parser.add_argument("--max-tokens", type=int, help="stop the run once its model tokens (in + out) reach this")
    parser.add_argument("--tool-calls", type=int, help="tool calls per iteration of a builder model that can call "
                                                       "functions (default: the source run's)")
    add_session_options(parser)


def run(args: argparse.Namespace) -> int:
    return execute(args, lambda service: service.fork(args.run_id, args.attempt, args.iteration, **overrides(args)),
                   args.iterations or 0)

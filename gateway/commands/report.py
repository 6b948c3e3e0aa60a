"""`colossus report RUN`: (re)write a run's report.html from its checkpoint and print its path."""

from __future__ import annotations

import argparse

from gateway.commands.runs import add_run_arguments, one_run

__all__ = ["add_arguments", "run"]

add_arguments = add_run_arguments


def run(args: argparse.Namespace) -> int:
    path = one_run(args, "report", lambda service, run_id: service.write_report(run_id))
    if path is None:
        return 2
    print(path)
    return 0

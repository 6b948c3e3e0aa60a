"""`colossus runs`: the runs under the runs directory, newest first; and what `show` and `report` share."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["add_arguments", "run", "offline_service", "add_run_arguments", "one_run"]

T = TypeVar("T")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs-dir", type=Path, help="default: [runs] dir, else ./runs")
    parser.add_argument("--config", help="colossus.toml")
    parser.add_argument("--json", action="store_true")


def offline_service(args: argparse.Namespace):  # -> RunService that only reads run folders
    from gateway.config import load_gateway_config
    from orchestrator.service import RunService

    runs_dir = args.runs_dir or load_gateway_config(args.config).runs_dir
    return RunService(None, None, runs_dir)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """For the commands about one run (show, report): its id, then the options every runs command takes."""
    parser.add_argument("run_id", help="run folder name under the runs directory (see `colossus runs`)")
    add_arguments(parser)


def one_run(args: argparse.Namespace, command: str, read: Callable[[Any, str], T]) -> T | None:
    """`read(service, run_id)` on a read-only RunService; an unknown run is said on stderr and gives None."""
    from orchestrator.errors import RunNotFound

    try:
        return read(offline_service(args), args.run_id)
    except RunNotFound as e:
        print(f"colossus {command}: {e}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    runs = offline_service(args).list()
    if args.json:
        print(json.dumps([r.model_dump(mode="json", exclude={"attempts"}) for r in runs]))
        return 0
    if not runs:
        print("no runs yet")
    for r in runs:
        score = f"{r.best_score:.3f}" if r.best_score is not None else "  –  "
        print(f"{r.run_id:45s} {r.status:12s} best {score}  {r.builder}/{r.verifier}  {len(r.attempts)} attempt(s)")
    return 0

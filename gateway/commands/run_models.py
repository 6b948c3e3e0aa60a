"""`--model ROLE=MODEL` of `colossus run` and `fork`: parsed, and checked before any Blender worker starts.

The run service checks a run's models again when the run starts (a host's start_run goes there
only); on the command line the same check runs first, so a typo costs no pool start-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.model_choice import check_models, parse_model_args
from harness.model_config import ModelConfigError, ModelsConfig

__all__ = ["add_model_option", "chosen_models", "model_choice_problem"]


def add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", action="append", metavar="ROLE=MODEL",
                        help="this run's model for a role (builder, verifier, summarizer, planner); repeat a role "
                             "for a fallback chain in order (default: the task's [models], then colossus.toml)")


def chosen_models(args: argparse.Namespace) -> dict[str, list[str]]:
    return parse_model_args(getattr(args, "model", None))


def model_choice_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the models this command names (`--model`, a task file's [models]), or None."""
    from orchestrator.errors import TaskError
    from orchestrator.task import load_task

    try:
        chosen = chosen_models(args)
        task = getattr(args, "task", None)  # `colossus run`'s task file (demo's --task is a bundled task's name)
        named = {**(load_task(task).models if isinstance(task, Path) else {}), **chosen}
        if named:
            check_models(ModelsConfig.load(args.config), named)
    except (ModelConfigError, TaskError, FileNotFoundError) as e:
        return str(e)
    return None

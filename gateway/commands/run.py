"""`colossus run TASK.toml`: run the inverse-graphics loop on a local pool, with a progress bar per attempt.

The pool and the vision server are the gateway's own (GatewayServices), started for this command
and stopped after it; the run itself is the coordinator's RunService. `--json` prints one object
(run_dir, best_attempt, best_score, ...) on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from gateway.commands.run_models import add_model_option, chosen_models, model_choice_problem
from harness import serving

__all__ = ["add_arguments", "run", "add_run_options", "local_services", "local_runs", "Progress", "finish", "execute"]


def add_run_options(parser: argparse.ArgumentParser, source: str | None = None) -> None:
    """The run's options; `source` names where unset ones come from when it is not the task (a fork's source run)."""
    budget = source or "the task's budget"
    parser.add_argument("--builder", choices=["llm", "parametric", "hybrid"],
                        help=f"default: {source or 'parametric when the start program has # param literals, else llm'}")
    parser.add_argument("--verifier", choices=["vlm", "metrics", "both"],
                        help=f"default: {source or 'metrics when the task has references, else vlm'}")
    parser.add_argument("--attempts", type=int, help=f"parallel attempts (default: {budget})")
    parser.add_argument("--iterations", type=int, help=f"iterations per attempt (default: {budget})")
    parser.add_argument("--threshold", type=float, help="score at which an attempt stops")
    parser.add_argument("--timeout", type=float, dest="timeout_s", help="wall-clock seconds for the whole run")
    parser.add_argument("--seed", type=int, help="base seed of the parameter search")
    parser.add_argument("--max-cost-usd", type=float, help="stop the run once its model spend reaches this (status budget)")
    parser.add_argument("--max-tokens", type=int, help="stop the run once its model tokens (in + out) reach this")
    parser.add_argument("--tool-calls", type=int, help="tool calls per iteration of a builder model that can call "
                                                       f"functions (default: {source or 'the task budget, 8'}); 0: whole programs")
    add_model_option(parser)
    parser.add_argument("--no-recall", dest="recall", action="store_false", default=None,
                        help="start cold: do not start from the most similar past run")
    add_session_options(parser)


def add_session_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, help="local Blender workers (default: [pool] workers)")
    parser.add_argument("--runs-dir", type=Path, help="where run folders go (default: [runs] dir, else ./runs)")
    parser.add_argument("--config", help="colossus.toml")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--no-check", action="store_true", help="skip `colossus models check` before the run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task", type=Path, help="a task file (task.toml)")
    add_run_options(parser)


class Progress:
    """One bar per attempt on stderr, with the run's model spend so far: redrawn in place on a terminal,
    one line per iteration otherwise."""

    def __init__(self, stream: TextIO, iterations: int = 0) -> None:
        self.stream = stream
        self.iterations = iterations
        self.rows: dict[int, str] = {}
        self.states: dict[int, Any] = {}  # the attempts as last seen: the line shows the run's spend
        self.drawn = 0
        self.tty = stream.isatty()

    def update(self, run_id: str, state: Any, step: Any) -> None:
        from orchestrator.state import run_spend

        total = max(self.iterations, state.done_iterations, 1)
        filled = int(20 * state.done_iterations / total)
        tail = f"  error: {step.error}" if step.error else ""
        self.states[state.index] = state
        spent = run_spend(self.states)
        self.rows[state.index] = (f"attempt {state.index} [{'#' * filled}{'.' * (20 - filled)}] "
                                  f"{state.done_iterations}/{total}  score {step.score:.3f}  best {state.best_score:.3f}"
                                  f"{f'  spent {spent.describe()}' if spent.calls else ''}{tail}")
        if not self.tty:
            print(self.rows[state.index], file=self.stream, flush=True)
            return
        if self.drawn:
            self.stream.write(f"\x1b[{self.drawn}F")
        for i in sorted(self.rows):
            self.stream.write("\x1b[2K" + self.rows[i] + "\n")
        self.drawn = len(self.rows)
        self.stream.flush()


def local_services(args: argparse.Namespace) -> Any:
    """The gateway's services (GatewayServices) for one CLI command, configured but not started."""
    from gateway.config import load_gateway_config
    from gateway.services import GatewayServices

    config = load_gateway_config(args.config)
    if getattr(args, "workers", None):
        config.pool.workers = args.workers
    if getattr(args, "runs_dir", None):
        config.runs_dir = args.runs_dir
    config.pool.warm_spare = False  # a CLI run needs exactly its workers
    return GatewayServices(config)


def check_plan(services: Any, plan: Callable[[Any], object]) -> None:
    """Run `plan(service)` on a RunService that has no pool (it only reads run folders): a bad task,
    run, attempt, iteration or option raises here, before any Blender worker starts."""
    from orchestrator.service import RunService

    plan(RunService(None, None, services.config.runs_dir, services.models, assets=services.assets()))


@asynccontextmanager
async def local_runs(args: argparse.Namespace, listener: Callable[..., None] | None = None,
                     services: Any = None) -> AsyncIterator[Any]:
    """A RunService over a freshly started local pool and vision server, stopped on exit."""
    services = services or local_services(args)
    await services.start()
    try:
        await services.pool.wait_ready(services.config.pool.startup_timeout_s)
        yield services.run_service(listener)
    finally:
        await services.stop()


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = ("builder", "verifier", "attempts", "iterations", "threshold", "timeout_s", "seed", "max_cost_usd", "max_tokens",
             "tool_calls", "recall")
    chosen = chosen_models(args)
    return {n: getattr(args, n, None) for n in names if getattr(args, n, None) is not None} | (
        {"models": chosen} if chosen else {})


def finish(status: Any, as_json: bool) -> int:
    """Print the outcome; exit 0 when the run completed."""
    best = status.best or {}
    result = {"run_id": status.run_id, "run_dir": status.run_dir, "status": status.status,
              "best_attempt": best.get("attempt"), "best_iteration": best.get("iteration"),
              "best_score": status.best_score,
              "best_renders": {v: str(Path(status.run_dir) / p) for v, p in best.get("renders", {}).items()},
              "report": str(Path(status.run_dir) / "report.html"), "spend": status.spend.model_dump(),
              "attempts": [{"attempt": a.attempt, "status": a.status, "iterations": a.iterations,
                            "best_score": a.best_score} for a in status.attempts]}
    if as_json:
        print(json.dumps(result))
    else:
        score = f"{status.best_score:.3f}" if status.best_score is not None else "none"
        print(f"run {status.run_id}: {status.status}; best score {score} "
              f"(attempt {result['best_attempt']}, iteration {result['best_iteration']})")
        if status.spend.calls:
            print(f"models: {status.spend.describe()}")
        print(f"report: {result['report']}")
    return 0 if status.status == "completed" else 1


def roles_used(args: argparse.Namespace) -> set[str]:
    """The model roles a run with these options may call (a resume's options are in its run folder: all)."""
    used = set()
    if getattr(args, "builder", None) != "parametric":
        used |= {"builder", "summarizer", "planner"}
    if getattr(args, "verifier", None) != "metrics":
        used.add("verifier")
    return used


def execute(args: argparse.Namespace, plan: Callable[[Any], object], begin: Callable[[Any], Awaitable[str]],
            iterations: int = 0) -> int:
    """Start (or resume) a run with `begin(service) -> run_id`, show progress, wait for the end.

    `plan(service)` checks the same request first (RunService.plan_*), before the models check and
    before any worker starts: a bad task, run, attempt, iteration or option exits 2 at once."""
    from gateway.errors import ConfigError, CoordinatorUnavailable
    from orchestrator.errors import OrchestratorError

    progress = Progress(sys.stderr, iterations)
    if (problem := model_choice_problem(args)) is not None:
        print(f"colossus: {problem}", file=sys.stderr)
        return 2
    try:
        services = local_services(args)
        check_plan(services, plan)
    except (OrchestratorError, ConfigError, ValueError) as e:  # ValueError: an invalid [models] table
        print(f"colossus: {e}", file=sys.stderr)
        return 2
    if not args.no_check:
        from gateway.commands.models import preflight

        problem = preflight(args.config, roles_used(args), chosen_models(args))
        if problem is not None:
            print(f"colossus: {problem}", file=sys.stderr)
            return 2

    async def main() -> int:
        async with local_runs(args, progress.update, services) as service:
            try:
                run_id = await begin(service)
            except OrchestratorError as e:
                print(f"colossus: {e}", file=sys.stderr)
                return 2
            progress.iterations = service.status(run_id).iterations_budget
            print(f"run {run_id} started", file=sys.stderr)
            return finish(await service.wait(run_id), args.json)

    try:
        return serving.run(main())
    except (CoordinatorUnavailable, ConfigError) as e:  # e.g. [vision] disabled, no Ray cluster at ray_address
        print(f"colossus: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; continue with `colossus resume RUN`", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    return execute(args, lambda service: service.plan_start(args.task, **overrides(args)),
                   lambda service: service.start(args.task, **overrides(args)), args.iterations or 0)

"""The attempt loop: build → execute and render → fast fix → sentinel and verify → remember → checkpoint.

`run_attempt` is the whole loop in one sitting; each phase is a named helper below it. Every
iteration runs a complete program on a fresh reset of the attempt's baseline (isolation by
baseline reload on a leased worker), so an iteration depends only on its code and resume needs
no Blender state. Errors the model caused (bad code, no code, a hang) go back to it as feedback;
errors we caused (scene, vision, every builder model down) stop the attempt, keeping what it did.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.classifier import classify_exit
from harness.report import ErrorClass, ExceptionInfo, ExecutionReport
from harness.vision_types import CallLog, Look, SentinelReport, VerifierOutput
from orchestrator.artifacts import RunFolder
from orchestrator.blueprint_loop import drawing_refs, pack_settings, split_renders
from orchestrator.builders.interface import BuildContext, Builder, Proposal
from orchestrator.builders.siblings import Siblings
from orchestrator.builders.llm import Completer
from orchestrator.checkpoint import Checkpoint
from orchestrator.degradation import VERIFIER_UNAVAILABLE_TAG, Degradation
from orchestrator.errors import AttemptStopped, BuilderUnavailable, SceneFault, SearchConverged, VerifierFault
from orchestrator.looks import take_looks
from orchestrator.memory import ExecutionRecord, IterationStep
from orchestrator.prompts import render
from orchestrator.scene import Scene, Vision
from orchestrator.state import AttemptState, RunConfig
from orchestrator.task import Task
from orchestrator.workbench import Workbench
from orchestrator.writer import SerialWriter

__all__ = ["AttemptContext", "run_attempt", "sentinel_penalty"]


@dataclass
class AttemptContext:
    """What one attempt works with; the state it changes travels separately (AttemptState)."""

    task: Task
    config: RunConfig
    folder: RunFolder
    scene: Scene
    vision: Vision
    builder: Builder
    checkpoint: Checkpoint
    deadline: float  # time.time() after which no new iteration starts
    summarizer: Completer | None = None
    examples: list[str] = field(default_factory=list)
    example_renders: dict[str, Path] = field(default_factory=dict)  # the recalled example's best renders, by view
    jacobian: list[list[float]] | None = None  # the recalled run's residual Jacobian (parametric search)
    on_step: Callable[[AttemptState, IterationStep], None] | None = None
    reset_ahead: asyncio.Future[None] | None = None  # the next iteration's reset, started when the worker was done
    siblings: Siblings | None = None  # the run's attempts, for builders that share evaluations
    offline_verifier: bool = False  # the verifier chain lists `metrics`: it scores when every VLM fails
    over_budget: Callable[[], str | None] | None = None  # why the run may not spend more (orchestrator.spend)


async def run_attempt(ctx: AttemptContext, state: AttemptState) -> AttemptState:
    """Iterate until the score reaches the threshold, the iterations, the deadline or the model budget
    run out, or we fail."""
    state.status, state.error = "running", None
    state.touch()
    state.memory.window = ctx.config.window
    writer = SerialWriter(f"attempt-{state.index}")
    try:
        while state.done_iterations < ctx.config.iterations:
            if time.time() >= ctx.deadline:
                state.status = "timeout"
                break
            if ctx.over_budget is not None and (spent := ctx.over_budget()):
                state.status, state.error = "budget", spent
                break
            step = IterationStep(index=state.done_iterations)
            started = time.perf_counter()
            completed = False
            try:
                with _phase(step, "build"):
                    proposal = await _build(ctx, state, step)
                with _phase(step, "execute"):  # and render: one worker call
                    await _execute(ctx, state, step, proposal.code)
                    await _fast_fix(ctx, state, step)
                if step.ran:
                    with _phase(step, "evaluate"):
                        await _evaluate(ctx, state, step)
                with _phase(step, "remember"):
                    await _remember(ctx, state, step)
                completed = True
            except SearchConverged:
                state.status = "converged"
            except AttemptStopped as e:
                step.error = f"{type(e).__name__}: {e}"
                if isinstance(e, BuilderUnavailable) and e.log is not None:
                    step.calls.append(e.log)
                state.status, state.error = "failed", step.error
            finally:
                if ctx.siblings is not None:
                    await ctx.siblings.release(state.index)
                step.elapsed_s = time.perf_counter() - started
                if completed or step.error:
                    _checkpoint(ctx, writer, state, step, completed)
            if state.status in ("failed", "converged"):
                break
            if state.best_score >= ctx.config.threshold:
                state.status = "converged"
                break
        else:
            state.status = "exhausted"
        await _save_final_scene(ctx, state)
    except asyncio.CancelledError:
        state.status = "cancelled"
        raise
    finally:
        if ctx.reset_ahead is not None:  # never leave a call running on a scene about to be released
            await _succeeded(ctx.reset_ahead)
            ctx.reset_ahead = None
        try:
            await writer.close()  # the iterations' files land before the attempt's final ones
        finally:
            state.finished_at = time.time()
            ctx.checkpoint.save(state)
            ctx.folder.write_attempt(state)
            ctx.folder.write_final_score(state)
    return state


# ---- phases ------------------------------------------------------------------------------------

@contextmanager
def _phase(step: IterationStep, name: str) -> Iterator[None]:
    """Wall time of a phase into step.phase_ms (the benchmark's and the report's breakdown)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        step.phase_ms[name] = round((time.perf_counter() - started) * 1000, 2)


def _context(ctx: AttemptContext, state: AttemptState, iteration: int) -> BuildContext:
    bench = Workbench(ctx.scene, lambda: _reset(ctx), ctx.task.render, ctx.folder.iter_dir(state.index, iteration) / "looks",
                      ctx.config.execute_timeout_s, ctx.task.start.baseline, lambda: _settle(ctx))
    return BuildContext(task=ctx.task, config=ctx.config, strategy=state.strategy, memory=state.memory,
                        iteration=iteration, examples=ctx.examples, example_renders=ctx.example_renders,
                        jacobian=ctx.jacobian,
                        siblings=ctx.siblings, workbench=bench)


def _take(step: IterationStep, proposal: Proposal) -> None:
    step.builder = proposal.builder
    step.plan, step.params = proposal.plan or step.plan, proposal.params
    step.raw = proposal.raw if not step.raw else f"{step.raw}\n\n--- fix ---\n{proposal.raw}"
    step.calls += proposal.calls
    step.model_s += proposal.model_s
    step.degradations += proposal.degradations
    step.tool_calls += proposal.tool_calls
    step.probes += proposal.probes


async def _build(ctx: AttemptContext, state: AttemptState, step: IterationStep) -> Proposal:
    """The builder proposes the next complete program (it never sees the scorer, only feedback)."""
    proposal = await ctx.builder.propose(_context(ctx, state, step.index))
    _take(step, proposal)
    if ctx.siblings is not None:
        step.ticket = ctx.siblings.ticket(state.index)
    return proposal


async def _execute(ctx: AttemptContext, state: AttemptState, step: IterationStep, code: str) -> None:
    """Back to the baseline, then one worker call: run the program and, if it ran, render the pack.

    A hang or crash, while executing or while rendering the scene the code built, is the code's
    fault and goes back to the builder; a render that fails on a scene built cleanly is ours.
    """
    step.code = code
    if not code.strip():
        report = ExecutionReport(success=False, error_class=ErrorClass.SYNTAX, exception=ExceptionInfo(
            type="NoCodeError", message="the reply held no ```python block with a program"))
        step.executions.append(ExecutionRecord(code=code, report=report))
        return
    await _reset(ctx)
    dest = ctx.folder.renders_dir(state.index, step.index)
    try:
        done = await ctx.scene.execute_and_render(code, pack_settings(ctx.task), dest, timeout_s=ctx.config.execute_timeout_s)
    except SceneFault:
        raise
    except Exception as e:  # the worker died or hung: feed it back
        step.executions.append(ExecutionRecord(code=code, report=ExecutionReport(
            success=False, error_class=classify_exit(getattr(e, "killed_for", None)),
            exception=ExceptionInfo(type=type(e).__name__, message=str(e)))))
        return
    step.executions.append(ExecutionRecord(code=code, report=done.report))
    if done.render_error is not None:
        raise SceneFault(f"render_pack failed: {done.render_error}")
    if done.render is not None:
        step.renders = {view: rv.path for view, rv in done.render.views.items()}
        step.scene = done.render.scene
        step.render_ms, step.cycles = done.render.total_ms, done.render.cycles


async def _reset(ctx: AttemptContext) -> None:
    """Back to the baseline: the reset started ahead if it succeeded, else a fresh one."""
    ahead, ctx.reset_ahead = ctx.reset_ahead, None
    if ahead is not None and await _succeeded(ahead):
        return
    try:
        await ctx.scene.reset(ctx.task.start.baseline)
    except Exception as e:
        raise SceneFault(f"reset to baseline {ctx.task.start.baseline!r} failed: {e}") from e


async def _settle(ctx: AttemptContext) -> None:
    """The reset started ahead, finished (its failure is left to the next call that needs the baseline)."""
    ahead, ctx.reset_ahead = ctx.reset_ahead, None
    if ahead is not None:
        await _succeeded(ahead)


async def _fast_fix(ctx: AttemptContext, state: AttemptState, step: IterationStep) -> None:
    """On an execution error: the classified error and traceback go to the builder, up to N times."""
    for number in range(1, ctx.config.fix_retries + 1):
        if step.ran or step.execution is None:
            return
        proposal = await ctx.builder.fix(_context(ctx, state, step.index), step.code, step.execution, number)
        if proposal is None:
            return
        _take(step, proposal)
        await _execute(ctx, state, step, proposal.code)


def sentinel_penalty(report: SentinelReport, config: RunConfig) -> float:
    """Score deducted for gross failures the sentinel saw (capped at 0.5)."""
    errors = sum(1 for i in report.issues if i.severity == "error")
    warnings = sum(1 for i in report.issues if i.severity == "warning")
    return min(0.5, errors * config.sentinel_error_penalty + warnings * config.sentinel_warning_penalty)


async def _evaluate(ctx: AttemptContext, state: AttemptState, step: IterationStep) -> None:
    """Sentinel and verifier look at the renders; they never execute anything.

    Sentinel and metrics are one vision call (the render brought the scene facts along), the VLM
    critique another; meanwhile the worker, its part of the iteration done, resets to the
    baseline for the next iteration. When every VLM fails and the verifier chain lists `metrics`
    (and the task has references), the metrics score alone, from then on in this attempt.
    """
    shown = {view: Path(p) for view, p in step.renders.items()}
    renders, plans = split_renders(shown)
    can_degrade = ctx.offline_verifier and bool(ctx.task.references or ctx.task.blueprint)
    vlm = ctx.config.verifier in ("vlm", "both") and not (can_degrade and state.memory.degraded("verifier"))
    metrics = ctx.config.verifier in ("metrics", "both") or not vlm
    refs = ctx.task.references if metrics or can_degrade else {}

    async def check() -> None:
        try:
            checked = await ctx.vision.check(renders, refs or None, step.scene)
        except Exception as e:
            if metrics:  # the metrics are the score: without them the iteration cannot be judged
                raise
            step.evaluator_errors.append(f"sentinel failed: {e}")  # a guardrail, not the score
            return
        step.sentinel, step.compare = checked.sentinel, checked.compare
        if ctx.task.blueprint is not None:
            step.blueprint = await ctx.vision.blueprint(plans, ctx.task.blueprint)

    async def critique() -> None:
        if not vlm:
            return
        try:
            step.critique = await _investigate(ctx, state, step, shown)
        except Exception as e:
            if VERIFIER_UNAVAILABLE_TAG not in str(e):
                raise
            if not can_degrade:
                raise VerifierFault(f"{e}; no offline verifier can take over: the verifier chain lists no `metrics` "
                                    "entry" + ("" if ctx.task.references else " and the task has no reference images")) from e
            step.degradations.append(Degradation(role="verifier", backend="metrics", reason=str(e)))
            return
        step.calls += step.critique.calls

    # the worker's part is done: its reset for the next iteration runs while we score and write
    ctx.reset_ahead = asyncio.ensure_future(ctx.scene.reset(ctx.task.start.baseline))
    # every evaluator finishes before a failure is raised: none is left running to write into the step
    # (the Vision implementation waits out a reconnecting server; what reaches us here is final)
    failures = [r for r in await asyncio.gather(check(), critique(), return_exceptions=True)
                if isinstance(r, BaseException)]
    if failures:
        if isinstance(failures[0], VerifierFault):
            raise failures[0]
        raise VerifierFault(f"vision failed: {failures[0]}") from failures[0]
    scored_by_metrics = metrics or step.degraded("verifier")
    scores = ([r.score for r in (step.compare, step.blueprint) if r and scored_by_metrics]
              + [c.overall_score for c in (step.critique,) if c])
    step.sentinel_penalty = sentinel_penalty(step.sentinel, ctx.config) if step.sentinel else 0.0
    step.score = max(0.0, sum(scores) / len(scores) - step.sentinel_penalty) if scores else 0.0


async def _investigate(ctx: AttemptContext, state: AttemptState, step: IterationStep, renders: dict[str, Path]) -> VerifierOutput:
    """The VLM critique, in turns while the verifier asks for extra looks (at most `verifier_looks`).

    The worker was sent back to its baseline when the pack was done; a look waits for that reset,
    rebuilds the iteration's scene and renders, then the reset for the next iteration starts again.
    """
    refs = {**ctx.task.references, **drawing_refs(ctx.task)} or None
    looks: list[Look] = []
    calls: list[CallLog] = []
    while True:
        turn = await ctx.vision.investigate(renders, ctx.task.description, refs, looks,
                                            ctx.config.verifier_looks - len(looks), ctx.config.models.get("verifier"))
        if turn.verdict is not None:
            return turn.verdict.model_copy(update={"calls": calls + turn.verdict.calls})
        if not turn.looks or len(looks) >= ctx.config.verifier_looks:
            raise VerifierFault("the verifier neither judged nor asked for a look it may still take")
        calls += turn.calls
        await _reset(ctx)
        looks += await take_looks(ctx.scene, step.code, ctx.task.render, turn.looks,
                                  ctx.folder.iter_dir(state.index, step.index) / "looks", len(looks) + 1,
                                  ctx.config.execute_timeout_s)
        ctx.reset_ahead = asyncio.ensure_future(ctx.scene.reset(ctx.task.start.baseline))


async def _succeeded(work: Awaitable[None]) -> bool:
    try:
        await work
        return True
    except Exception:  # the next iteration resets again and reports the failure as a SceneFault
        return False


async def _remember(ctx: AttemptContext, state: AttemptState, step: IterationStep) -> None:
    """Add the step; summarise steps that left the window (summarizer role, else extractive)."""
    state.memory.add(step)
    if ctx.summarizer is None:
        return
    for old in state.memory.unsummarised():
        prompt = render("summarize", steps=f"{old.summary()}\n{old.feedback()}")
        try:
            text, log = await ctx.summarizer.complete("summarizer", [{"role": "user", "content": prompt}])
        except Exception as e:  # a summary is a nicety: keep the extractive one
            log = getattr(e, "log", None)
            text = old.summary()
        state.memory.summaries[old.index] = text.strip() or old.summary()
        if log is not None:
            step.calls.append(log)


def _checkpoint(ctx: AttemptContext, writer: SerialWriter, state: AttemptState, step: IterationStep,
                completed: bool) -> None:
    """Artifacts of the iteration, then the checkpoint; an unfinished step is written but not kept.

    The state is frozen here, as it is now; the writer thread stores it while the next iteration
    runs (the step itself no longer changes once its iteration is over).
    """
    frozen = state.model_dump_json() if completed else None
    writer.submit(_persist, ctx.folder, ctx.checkpoint, state.index, step, frozen)
    if ctx.on_step is not None:
        ctx.on_step(state, step)


def _persist(folder: RunFolder, checkpoint: Checkpoint, attempt: int, step: IterationStep, frozen: str | None) -> None:
    folder.write_iteration(attempt, step)
    if frozen is not None:
        checkpoint.put(attempt, frozen)
        folder.write_attempt(AttemptState.model_validate_json(frozen))


async def _save_final_scene(ctx: AttemptContext, state: AttemptState) -> None:
    """final_scene.blend holds the best iteration's scene, rebuilt from its program."""
    best = state.best
    if best is None:
        return
    for tries_left in (1, 0):  # the best program ran cleanly before: a failure here is the worker's, so once more
        try:
            await _reset(ctx)
            await ctx.scene.execute(best.code, timeout_s=ctx.config.execute_timeout_s)
            await ctx.scene.save_blend(ctx.folder.attempt_dir(state.index) / "final_scene.blend")
            return
        except Exception as e:
            if not tries_left:
                state.error = f"final scene not saved: {e}"

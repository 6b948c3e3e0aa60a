"""Fork from any iteration (ART-06) and the live report.html, on real Blender with the offline
parametric builder and metrics verifier (red_block: no model needed).

One worker and one vision server serve the module; the source run (one attempt, four iterations)
is made once and forked by every test.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gateway.services import GatewayServices
from harness.model_config import ModelsConfig
from harness.report import ErrorClass, ExceptionInfo, ExecutionReport
from orchestrator.artifacts import RunFolder
from orchestrator.checkpoint import Checkpoint
from orchestrator.coordinator import make_strategy
from orchestrator.errors import ForkError, RunNotFound
from orchestrator.fork import fork_point
from orchestrator.memory import AttemptMemory, ExecutionRecord, IterationStep, image_part
from orchestrator.params import find_params
from orchestrator.service import RunService, RunStatus
from orchestrator.state import AttemptState
from tests.fakes.openai_server import FakeOpenAIServer
from tests.orchestrator.conftest import running_services

PROJECT = Path(__file__).resolve().parents[2]
RED_BLOCK = PROJECT / "examples" / "tasks" / "red_block" / "task.toml"


@pytest.fixture(scope="module")
async def services(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GatewayServices]:
    async with running_services(tmp_path_factory.mktemp("fork"), workers=1) as services:
        yield services


@pytest.fixture(scope="module")
def runs(services: GatewayServices) -> RunService:
    return RunService(services.provider, services.vision, services.config.runs_dir)


@pytest.fixture(scope="module")
async def source(runs: RunService) -> RunStatus:
    run_id = await runs.start(RED_BLOCK, builder="parametric", verifier="metrics", attempts=1, iterations=4,
                              threshold=1.0)
    status = await runs.wait(run_id)
    assert status.status == "completed" and status.attempts[0].iterations == 4, status
    return status


def code(run_dir: str | Path, iteration: int, attempt: int = 0) -> str:
    return (Path(run_dir) / f"attempts/attempt-{attempt:03d}/iterations/iter-{iteration:03d}/code.py").read_text()


def params(program: str) -> dict[str, list[float]]:
    return {p.name: p.value for p in find_params(program)}


async def test_a_fork_starts_from_the_iterations_program_and_memory_and_records_where_it_came_from(
        runs: RunService, source: RunStatus):
    forked_program = code(source.run_dir, 2)
    assert params(forked_program) != params(code(source.run_dir, 0))  # the search had moved by then
    run_id = await runs.fork(source.run_id, 0, 2, iterations=2)
    assert run_id != source.run_id
    origin = {"run_id": source.run_id, "attempt": 0, "iteration": 2, "score": source.attempts[0].scores[2]}
    assert runs.status(run_id).forked_from == origin  # shown at once, while it runs
    status = await runs.wait(run_id)
    assert status.status == "completed" and status.forked_from == origin and status.attempts[0].iterations == 2

    root = Path(status.run_dir)
    assert json.loads((root / "run.json").read_text())["forked_from"] == origin
    assert (root / "start.py").read_text() == forked_program
    assert code(root, 0) == forked_program  # the search starts at the forked point itself
    assert code(root, 1) != forked_program
    assert abs(status.attempts[0].scores[0] - origin["score"]) < 1e-6  # same program, same baseline, same score

    state = Checkpoint.read(root)[0]
    assert [s.index for s in state.memory.steps] == [0, 1]  # its own iterations only
    prior = state.memory.prior
    assert prior is not None and [s.index for s in prior.steps] == [0, 1, 2]
    assert all(Path(p).is_relative_to(root / "forked_from") and Path(p).is_file() for p in prior.steps[-1].renders.values())
    assert not any(s.renders for s in prior.steps[:-1])
    assert "This attempt was forked" in state.memory.to_messages()[0]["content"]
    assert "forked from " + source.run_id in (root / "report.html").read_text()

    again = await runs.wait(await runs.fork(run_id, 0, 1, iterations=1))  # a fork of the fork remembers both
    memory = Checkpoint.read(Path(again.run_dir))[0].memory
    assert memory.prior is not None and memory.prior.prior is not None
    assert [s.index for s, _ in memory.history()] == [0, 1, 2, 0, 1, 0]
    assert code(again.run_dir, 0) == code(root, 1)


async def test_a_model_builder_in_a_fork_goes_on_from_the_source_attempts_history(
        services: GatewayServices, source: RunStatus):
    forked = code(source.run_dir, 2)
    with FakeOpenAIServer() as fake:
        models = ModelsConfig.from_table({"builder": ["openai/gen"], "settings": {
            "openai/gen": {"api_base": fake.base_url, "api_key": "sk-test"}}}, env={})
        runs = RunService(services.provider, services.vision, services.config.runs_dir, models)
        fake.script("gen", f"Keep it.\n```python\n{forked}```")
        status = await runs.wait(await runs.fork(source.run_id, 0, 2, builder="llm", iterations=1))
        first = fake.requests_for("gen")[0]
    assert status.status == "completed" and status.builder == "llm", status
    prompt = json.dumps(first.body["messages"])
    assert "This attempt was forked" in prompt
    assert all(f"Result of iteration {i}:" in prompt for i in (0, 1, 2))  # the source attempt's steps, in the window
    assert json.dumps(forked)[1:-1] in prompt  # the forked program, as the start program and as iteration 2's
    renders = sorted(p for p in (Path(source.run_dir) / "attempts/attempt-000/iterations/iter-002/renders").glob("*.png")
                     if "." not in p.stem)  # not the measured masks beside them (front.mask.png)
    shown = [image_part(r)["image_url"]["url"] for r in renders]  # its four renders, copied into the fork
    assert len(renders) == 4 and first.image_urls()[-4:] == shown and len(first.image_urls()) == 8  # + 4 references


async def test_a_fork_of_an_iteration_that_does_not_exist_is_refused_naming_what_does(
        runs: RunService, source: RunStatus):
    before = sorted(p.name for p in runs.runs_dir.iterdir())
    with pytest.raises(ForkError, match=r"no completed iteration 9; its completed iterations: 0\.\.3"):
        await runs.fork(source.run_id, 0, 9)
    with pytest.raises(ForkError, match=r"has no attempt 3; its attempts: 0"):
        await runs.fork(source.run_id, 3, 0)
    with pytest.raises(RunNotFound, match="no run"):
        await runs.fork("2020-01-01T00-00-00Z_nothing", 0, 0)
    assert sorted(p.name for p in runs.runs_dir.iterdir()) == before  # nothing was created


def test_a_fork_of_an_iteration_whose_program_did_not_run_is_refused_naming_those_that_ran(tmp_path: Path):
    ran = ExecutionReport(success=True)
    failed = ExecutionReport(success=False, error_class=ErrorClass.SYNTAX,
                             exception=ExceptionInfo(type="SyntaxError", message="invalid syntax"))
    steps = [IterationStep(index=i, code="pass\n", executions=[ExecutionRecord(code="pass\n", report=r)])
             for i, r in enumerate((ran, failed, ran))]
    states = {0: AttemptState(index=0, strategy=make_strategy(0, 0), memory=AttemptMemory(steps=steps))}
    with pytest.raises(ForkError, match=r"iteration 1: its program did not run.*iterations that ran: 0, 2"):
        fork_point(RunFolder(tmp_path), states, 0, 1)
    assert fork_point(RunFolder(tmp_path), states, 0, 2).memory.steps == steps


async def test_a_fork_of_a_copied_run_folder_resumes_proposing_what_an_uninterrupted_fork_does(
        services: GatewayServices, source: RunStatus):
    """The copy is a folder no process is running (as one left by a killed process; the vision server
    reads renders under the runs folder only, so the copy lives there); the fork is cancelled after two
    iterations and resumed by another RunService, as after a restart."""
    copy = f"{source.run_id}-copy"
    shutil.copytree(source.run_dir, services.config.runs_dir / copy)
    fresh = lambda: RunService(services.provider, services.vision, services.config.runs_dir)  # noqa: E731
    straight = fresh()
    whole = await straight.wait(await straight.fork(copy, 0, 1, iterations=4))
    assert whole.status == "completed" and whole.attempts[0].iterations == 4, whole

    interrupted = fresh()
    run_id = await interrupted.fork(copy, 0, 1, iterations=4)
    status = await interrupted.get(run_id, wait_s=30)
    while status.attempts[0].iterations < 2:
        status = await interrupted.get(run_id, wait_s=30)
    cancelled = await interrupted.cancel(run_id)
    assert cancelled.status == "cancelled" and cancelled.attempts[0].iterations < 4

    resumed = fresh()
    assert await resumed.resume(run_id) == run_id
    done = await resumed.wait(run_id)
    assert done.status == "completed" and done.forked_from is not None
    assert (done.forked_from["run_id"], done.forked_from["iteration"]) == (copy, 1)
    assert [code(done.run_dir, i) for i in range(4)] == [code(whole.run_dir, i) for i in range(4)]
    assert code(done.run_dir, 0) == code(source.run_dir, 1)
    assert Checkpoint.read(Path(done.run_dir))[0].memory.prior is not None


async def test_colossus_fork_runs_a_fork_from_the_command_line(services: GatewayServices, source: RunStatus):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLOSSUS_")}
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "gateway.cli", "fork", source.run_id, "--attempt", "0", "--iteration", "3",
                         "--attempts", "1", "--iterations", "1", "--workers", "1", "--no-check", "--json",
                         "--runs-dir", str(services.config.runs_dir)],
        cwd=PROJECT, env={**env, "PYTHONPATH": str(PROJECT)}, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "completed" and Path(result["report"]).is_file()
    assert json.loads((Path(result["run_dir"]) / "run.json").read_text())["forked_from"]["iteration"] == 3
    assert code(result["run_dir"], 0) == code(source.run_dir, 3)
    assert "started" in done.stderr


class _Text(HTMLParser):
    """The page's text and its <meta> tags (the standard library's parser: a broken page shows as missing parts)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.metas: list[dict[str, str | None]] = []
        self.closed_html = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            self.metas.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        self.closed_html |= tag == "html"


def parse(page: str) -> _Text:
    parsed = _Text()
    parsed.feed(page)
    parsed.close()
    return parsed


async def test_report_html_is_rewritten_whole_after_iterations_while_the_run_goes_on(runs: RunService):
    run_id = await runs.start(RED_BLOCK, builder="parametric", verifier="metrics", attempts=1, iterations=8,
                              threshold=1.0)
    report = runs.runs_dir / run_id / "report.html"
    live_pages: list[_Text] = []
    seen_first = None
    while (status := runs.status(run_id)).active:
        done = sum(a.iterations for a in status.attempts)
        if report.is_file():
            page = parse(report.read_text(encoding="utf-8"))
            assert page.closed_html, "a reader saw half a report.html"
            if any(m.get("http-equiv") == "refresh" for m in page.metas):
                live_pages.append(page)
        elif done >= 1:
            seen_first = seen_first or time.monotonic()
            assert time.monotonic() - seen_first < 1.0, "no report.html a second after the first iteration"
        await asyncio.sleep(0.01)
    assert live_pages, "no live report was seen while the run went on"
    text = " ".join(live_pages[0].text)
    assert "iter 0" in text and "live · " in text and "iteration(s) done" in text
    final = parse(report.read_text(encoding="utf-8"))
    assert not any(m.get("http-equiv") == "refresh" for m in final.metas) and "live · " not in " ".join(final.text)
    assert "iter 7" in " ".join(final.text)
    summary = json.loads((runs.runs_dir / run_id / "summary.json").read_text())
    assert 1 <= summary["live_report"]["writes"] <= 8 and summary["live_report"]["error"] is None
    assert not list(report.parent.glob(".report.html.*"))  # no temporary file left behind

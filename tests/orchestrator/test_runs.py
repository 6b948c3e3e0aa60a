"""Runs end to end on real Blender workers, the real vision server and a real local OpenAI-compatible server.

One pool of two workers and one vision server are shared by the module (the machine has 2 cores);
the task is the tiny cube fixture in data/cube (two params, two 64² views).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.services import GatewayServices
from harness.model_config import ModelsConfig
from orchestrator.checkpoint import Checkpoint
from orchestrator.errors import TaskError
from orchestrator.service import RunService
from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.orchestrator.conftest import running_services

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"
GOOD = (Path(__file__).parent / "data" / "cube" / "truth.py").read_text()
BROKEN = GOOD.replace("bpy.context.active_object.name", "bpy.context.active_objekt.name")


@pytest.fixture(scope="module")
def fake() -> FakeOpenAIServer:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="module")
async def services(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GatewayServices]:
    async with running_services(tmp_path_factory.mktemp("runs"), workers=2) as services:
        yield services


@pytest.fixture(scope="module")
def runs(services: GatewayServices, fake: FakeOpenAIServer) -> RunService:
    models = ModelsConfig.from_table({
        "builder": ["openai/gen-down", "openai/gen-ok"],
        "settings": {m: {"api_base": fake.base_url, "api_key": "sk-test"} for m in ("openai/gen-down", "openai/gen-ok")},
    }, env={})
    return RunService(services.provider, services.vision, services.config.runs_dir, models)


async def test_parametric_builder_converges_on_the_cube_and_writes_every_artifact(runs: RunService):
    run_id = await runs.start(CUBE, builder="parametric", verifier="metrics", attempts=2, iterations=12, threshold=0.88)
    status = await runs.wait(run_id)
    assert status.status == "completed" and status.best_score >= 0.88, status
    root = Path(status.run_dir)
    for name in ("run.json", "task.toml", "baseline.blend", "summary.json", "best_attempt.json", "report.html",
                 "ref/front.png", "start.py"):
        assert (root / name).is_file(), name
    best = json.loads((root / "best_attempt.json").read_text())
    assert set(best) >= {"attempt", "iteration", "score", "renders"} and set(best["renders"]) == {"front", "top"}
    assert all((root / p).is_file() for p in best["renders"].values())
    summary = json.loads((root / "summary.json").read_text())
    assert [a["status"] for a in summary["attempts"]] == ["converged"] * 2  # one search: it converged for both
    ran = [a["attempt"] for a in summary["attempts"] if a["iterations"]]
    assert best["attempt"] in ran
    for attempt in (0, 1):
        a = root / "attempts" / f"attempt-{attempt:03d}"
        for name in ("attempt.json", "strategy.txt", "final_score.json"):
            assert (a / name).is_file(), (attempt, name)
        if attempt not in ran:  # the search needed one point at a time, and the other attempt took them all
            continue
        assert (a / "final_scene.blend").is_file(), attempt
        it = a / "iterations" / "iter-000"
        for name in ("plan.txt", "code.py", "execution.json", "renders/front.png", "renders/top.png", "sentinel.json",
                     "verifier.json", "generator_raw.txt", "verifier_raw.txt", "models.json"):
            assert (it / name).is_file(), (attempt, name)
    assert "geometry_first" in (root / "attempts/attempt-001/strategy.txt").read_text()
    meta = json.loads((root / "run.json").read_text())
    assert meta["isolation"]["mode"] == "baseline_reload" and meta["config"]["attempts"] == 2
    html = (root / "report.html").read_text()
    assert "<svg" in html and 'src="attempts/attempt-00' in html and "Winning code" in html
    assert "<h3>Against the reference</h3>" in html and "front: " in html


async def test_the_least_squares_search_solves_the_seven_parameter_demo_task_within_fourteen_renders(runs: RunService):
    """One attempt (nothing shared, deterministic): size, placement and colour of red_block from its start."""
    task = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "red_block" / "task.toml"
    run_id = await runs.start(task, builder="parametric", verifier="metrics", attempts=1, iterations=14, seed=0)
    status = await runs.wait(run_id)
    assert status.attempts[0].status == "converged" and status.best_score >= 0.9, status
    best = Checkpoint.read(Path(status.run_dir))[0].best
    assert best is not None and best.compare is not None
    assert best.compare.views["front"].colour_delta_e < 8  # red: the pink block the old search settled on was ΔE 20
    size, offset = best.params["size"], best.params["offset_x"][0]
    assert all(abs(a - b) < 0.15 for a, b in zip(size, (1.6, 0.8, 1.2))) and abs(offset - 0.6) < 0.15, best.params


async def test_two_attempts_share_one_search_and_never_render_the_same_parameters(runs: RunService):
    run_id = await runs.start(CUBE, builder="parametric", verifier="metrics", attempts=2, iterations=6, threshold=1.0,
                              skip_after_success=False)
    status = await runs.wait(run_id)
    states = Checkpoint.read(Path(status.run_dir))
    params = [tuple(v for values in s.params.values() for v in values) for st in states.values() for s in st.memory.steps]
    assert len(params) == 12 and len(set(params)) == 12, params
    assert all(len(st.memory.steps) == 6 for st in states.values())


async def test_llm_builder_heals_broken_code_and_falls_back_to_the_second_model(runs: RunService, fake: FakeOpenAIServer):
    # gen-down has no scripted reply: it answers HTTP 500 to every request
    fake.script("gen-ok", f"Make a cube.\n```python\n{BROKEN}```", Reply(text=f"Fixed the typo.\n```python\n{GOOD}```"))
    run_id = await runs.start(CUBE, builder="llm", verifier="metrics", attempts=1, iterations=2, threshold=0.95)
    status = await runs.wait(run_id)
    assert status.status == "completed", status
    it0 = Path(status.run_dir) / "attempts/attempt-000/iterations/iter-000"
    execution = json.loads((it0 / "execution.json").read_text())
    assert [r["report"]["success"] for r in execution["runs"]] == [False, True]
    assert "active_objekt" in execution["runs"][0]["report"]["exception"]["message"]
    assert (it0 / "code.py").read_text() == GOOD == execution["runs"][1]["code"]
    fix_prompt = fake.requests_for("gen-ok")[1].body["messages"][-1]["content"]
    assert "active_objekt" in fix_prompt and "SMALLEST" in fix_prompt
    calls = json.loads((it0 / "models.json").read_text())
    assert [(c["role"], c["model"], c["fallbacks_taken"]) for c in calls] == [("builder", "openai/gen-ok", 1)] * 2
    assert status.best_score >= 0.95 and status.attempts[0].status == "converged"  # the healed program is the truth
    assert fake.pending("gen-ok") == 0


async def test_cancel_stops_the_run_and_keeps_completed_iterations(runs: RunService):
    run_id = await runs.start(CUBE, builder="parametric", attempts=1, iterations=500, threshold=1.0)
    status = await runs.get(run_id, wait_s=30)
    while not status.attempts or status.attempts[0].iterations < 2:
        status = await runs.get(run_id, wait_s=30)
    cancelled = await runs.cancel(run_id)
    assert cancelled.status == "cancelled" and not cancelled.active
    assert cancelled.attempts[0].status == "cancelled" and 2 <= cancelled.attempts[0].iterations < 500
    again = RunService(None, None, runs.runs_dir).status(run_id)  # as another process would read it
    assert again.attempts[0].iterations == cancelled.attempts[0].iterations


async def test_bad_requests_fail_before_a_run_folder_exists(runs: RunService, tmp_path: Path):
    before = set(runs.runs_dir.iterdir())
    with pytest.raises(TaskError, match="metrics verifier needs reference images"):
        await runs.start({"description": "a cube"}, builder="llm", verifier="metrics")
    with pytest.raises(TaskError, match="task file not found"):
        await runs.start(tmp_path / "nope.toml")
    with pytest.raises(TaskError, match="attempts"):
        await runs.start(CUBE, attempts=0)
    assert set(runs.runs_dir.iterdir()) - before <= {runs.runs_dir / ".inline"}


async def test_hybrid_lets_the_model_write_the_program_and_the_search_tune_it(runs: RunService, fake: FakeOpenAIServer):
    start = (CUBE.parent / "start.py").read_text()
    fake.script("gen-ok", f"A cube to tune.\n```python\n{start}```", f"Again.\n```python\n{start}```")
    run_id = await runs.start(CUBE, builder="hybrid", verifier="metrics", attempts=1, iterations=6, threshold=1.0)
    status = await runs.wait(run_id)
    assert status.status == "completed", status
    attempt = json.loads((Path(status.run_dir) / "attempts/attempt-000/attempt.json").read_text())
    builders = [json.loads(p.read_text()) for p in sorted((Path(status.run_dir) / "attempts/attempt-000/iterations").glob("*/models.json"))]
    assert [len(b) for b in builders] == [1, 0, 0, 0, 0, 1]  # the model speaks first and after 4 refinements
    assert max(attempt["scores"][1:5]) > attempt["scores"][0]  # the search improved the model's program
    second = fake.requests_for("gen-ok")[-1].body["messages"]
    texts = [part["text"] for m in second if isinstance(m["content"], list) for part in m["content"] if part["type"] == "text"]
    directions = [line for t in texts for line in t.splitlines() if line.startswith("Against the reference, front:")]
    assert directions, texts  # the model reads measured directions, not only scores


async def test_programs_that_scored_well_come_back_as_examples_for_similar_tasks(runs: RunService, fake: FakeOpenAIServer):
    hit = runs.recall.lookup("cube A grey cube resting on the ground", {"front": CUBE.parent / "ref" / "front.png"})
    assert hit is not None and hit.entry.score >= 0.5 and hit.visual > 0.9 and hit.entry.render_signatures
    fake.script("gen-ok", f"```python\n{GOOD}```")
    run_id = await runs.start(CUBE, builder="llm", attempts=1, iterations=1)
    status = await runs.wait(run_id)
    first = fake.requests_for("gen-ok")[-1].body["messages"][1]
    assert "scored well on a similar past task" in json.dumps(first)
    assert "The similar past task's program, rendered, front view:" in json.dumps(first), "its renders come along"
    assert status.recalled["used"] == ["its best program and renders as an example"] and status.recalled["similarity"] > 0.9


async def test_iterations_that_leave_the_window_are_summarised_by_the_summarizer_role(services, fake: FakeOpenAIServer):
    models = ModelsConfig.from_table({
        "builder": ["openai/gen-ok"], "summarizer": ["openai/sum"],
        "settings": {m: {"api_base": fake.base_url, "api_key": "sk-test"} for m in ("openai/gen-ok", "openai/sum")},
    }, env={})
    runs = RunService(services.provider, services.vision, services.config.runs_dir, models)
    start = (CUBE.parent / "start.py").read_text()
    fake.script("gen-ok", *[f"Try {i}.\n```python\n{start}```" for i in range(4)])
    fake.script("sum", "SUMMARY-OF-ZERO: a small cube on the left.")
    run_id = await runs.start(CUBE, builder="llm", attempts=1, iterations=4, threshold=1.0, window=2)
    status = await runs.wait(run_id)
    assert status.status == "completed" and status.attempts[0].iterations == 4
    last_prompt = json.dumps(fake.requests_for("gen-ok")[-1].body["messages"])
    assert "Summary of earlier iterations" in last_prompt and "SUMMARY-OF-ZERO" in last_prompt
    summaries = Checkpoint.read(Path(status.run_dir))[0].memory.summaries
    assert summaries[0].startswith("SUMMARY-OF-ZERO")
    assert summaries[1].startswith("Iteration 1 (llm): score")  # the summarizer failed: the extractive one stands in
    calls = json.loads((Path(status.run_dir) / "attempts/attempt-000/iterations/iter-002/models.json").read_text())
    assert [c["role"] for c in calls] == ["builder", "summarizer"]


async def test_the_wall_clock_timeout_stops_a_run_between_iterations(runs: RunService):
    run_id = await runs.start(CUBE, builder="parametric", attempts=1, iterations=500, threshold=1.0, timeout_s=2.0)
    status = await runs.wait(run_id)
    assert status.status == "timeout" and status.attempts[0].status == "timeout"
    assert 1 <= status.attempts[0].iterations < 500 and status.best is not None


async def test_a_program_that_hangs_blender_comes_back_to_the_model_as_a_timeout_and_the_fix_runs(
        runs: RunService, fake: FakeOpenAIServer):
    fake.script("gen-ok", "Spin.\n```python\nwhile True:\n    pass\n```", f"Do not spin.\n```python\n{GOOD}```")
    run_id = await runs.start(CUBE, builder="llm", attempts=1, iterations=1, threshold=0.95, execute_timeout_s=2)
    status = await runs.wait(run_id)
    assert status.status == "completed" and status.best_score >= 0.95, status
    runs_of = json.loads((Path(status.run_dir) / "attempts/attempt-000/iterations/iter-000/execution.json").read_text())["runs"]
    assert runs_of[0]["report"]["error_class"] == "TIMEOUT" and runs_of[1]["report"]["success"]
    assert "TIMEOUT" in fake.requests_for("gen-ok")[-1].body["messages"][-1]["content"]

"""Spend caps: a run stops cleanly at the iteration its model spend reaches the cap, best kept, and
says what it spent. Real Blender and vision; the builder is a real local OpenAI-compatible server
whose replies carry known token counts."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.commands.run import Progress
from gateway.services import GatewayServices
from harness.model_config import ModelsConfig
from orchestrator.checkpoint import Checkpoint
from orchestrator.service import RunService
from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.orchestrator.conftest import running_services

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"
GOOD = (Path(__file__).parent / "data" / "cube" / "truth.py").read_text()
USAGE = {"prompt_tokens": 1000, "completion_tokens": 100}  # $0.02 a call at the prices below


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(default=Reply(text=f"A cube.\n```python\n{GOOD}```", usage=USAGE)) as server:
        yield server


@pytest.fixture(scope="module")
async def services(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GatewayServices]:
    async with running_services(tmp_path_factory.mktemp("budget"), workers=1) as services:
        yield services


def _runs(services: GatewayServices, fake: FakeOpenAIServer, priced: bool = True) -> RunService:
    # litellm keeps prices process-wide, per model name: the unpriced model has a name of its own
    model, price = ("openai/gen", {"input_cost_per_token": 1e-5, "output_cost_per_token": 1e-4}) if priced else ("openai/gen-unpriced", {})
    models = ModelsConfig.from_table({"builder": [model], "settings": {
        model: {"api_base": fake.base_url, "api_key": "k", **price}}}, env={})
    return RunService(services.provider, services.vision, services.config.runs_dir, models)


async def test_a_cost_cap_stops_the_run_at_the_iteration_that_reached_it_and_keeps_its_best(services, fake):
    runs = _runs(services, fake)
    run_id = await runs.start(CUBE, builder="llm", verifier="metrics", attempts=1, iterations=10, threshold=1.0,
                              max_cost_usd=0.05)
    status = await runs.wait(run_id)
    # $0.02 per iteration: after the third ($0.06 ≥ $0.05) no fourth starts
    assert status.status == "budget" and status.attempts[0].status == "budget", status
    assert status.attempts[0].iterations == 3 and "cost budget reached: $0.0600 of $0.0500" in status.attempts[0].error
    assert (status.spend.tokens, round(status.spend.cost_usd, 6), status.spend.cost_known) == (3300, 0.06, True)
    root = Path(status.run_dir)
    best = json.loads((root / "best_attempt.json").read_text())
    assert best["score"] == status.best_score > 0.9 and (root / "attempts/attempt-000/final_scene.blend").is_file()
    meta = json.loads((root / "run.json").read_text())
    assert meta["status"] == "budget" and meta["config"]["max_cost_usd"] == 0.05 and meta["spend"]["tokens"] == 3300
    assert "spent 3,300 tokens, $0.0600 of $0.0500" in (root / "report.html").read_text()

    progress = Progress(io.StringIO())  # the CLI's progress line, from the checkpointed state
    state = Checkpoint.read(root)[0]
    progress.update(run_id, state, state.memory.steps[-1])
    assert "spent 3,300 tokens, $0.0600" in progress.stream.getvalue()


async def test_a_token_cap_from_the_task_file_stops_the_run(services, fake, tmp_path):
    task = shutil.copytree(CUBE.parent, tmp_path / "cube") / "task.toml"
    task.write_text(task.read_text() + "max_tokens = 2000\n")  # into [budget], the file's last table
    runs = _runs(services, fake)
    run_id = await runs.start(task, builder="llm", verifier="metrics", attempts=1, iterations=10, threshold=1.0)
    status = await runs.wait(run_id)
    assert status.status == "budget" and status.attempts[0].iterations == 2, status
    assert "token budget reached: 2,200 of 2,000 tokens" in status.attempts[0].error and status.max_tokens == 2000


async def test_a_model_without_a_price_is_never_counted_free_under_a_cost_cap(services, fake):
    runs = _runs(services, fake, priced=False)
    run_id = await runs.start(CUBE, builder="llm", verifier="metrics", attempts=1, iterations=10, threshold=1.0,
                              max_cost_usd=100.0)
    status = await runs.wait(run_id)
    assert status.status == "budget" and status.attempts[0].iterations == 1, status
    assert "1 call(s) of unknown price" in status.attempts[0].error
    assert not status.spend.cost_known and status.spend.tokens == 1100
    assert status.spend.describe() == "1,100 tokens, cost unknown (1 call(s) unpriced)"

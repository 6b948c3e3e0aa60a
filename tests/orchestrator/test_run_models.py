"""A run names its own models: they replace colossus.toml's chains for that run only, a planner writes each
iteration's plan first, and run.json, get_run and report.html say which models answered. Real Blender, the
real vision server and the local OpenAI-compatible server."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.services import GatewayServices
from harness.model_config import ModelsConfig
from orchestrator.errors import TaskError
from orchestrator.service import RunService
from tests.fakes.openai_server import FakeOpenAIServer
from tests.orchestrator.conftest import running_services

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"
GOOD = (CUBE.parent / "truth.py").read_text()
VERDICT = json.dumps({"overall_score": 0.9, "is_complete": True, "issues": [], "suggestions": [],
                      "positive_aspects": ["grey cube"],
                      "scores": {"composition": 0.9, "lighting": 0.9, "materials": 0.9, "goal_match": 0.9}})
MODELS = ("gen-config", "gen-run", "plan-run", "vlm-config", "vlm-run", "text-run")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="module")
def toml(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAIServer) -> Path:
    path = tmp_path_factory.mktemp("models") / "colossus.toml"
    lines = ['[models]', 'builder = ["openai/gen-config"]', 'verifier = ["openai/vlm-config"]',
             '[models.router]', 'num_retries = 0']
    for m in MODELS:
        lines += [f'[models.settings."openai/{m}"]', f'api_base = "{fake.base_url}"', 'api_key = "k"',
                  f'vision = {"true" if m.startswith("vlm") else "false"}', 'function_calling = false']
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
async def runs(tmp_path_factory: pytest.TempPathFactory, toml: Path) -> AsyncIterator[RunService]:
    async with running_services(tmp_path_factory.mktemp("runs"), workers=1, config_file=toml) as services:
        yield RunService(services.provider, services.vision, services.config.runs_dir, ModelsConfig.load(toml))


async def test_a_run_uses_its_own_builder_planner_and_verifier_and_records_them(runs: RunService, fake: FakeOpenAIServer):
    fake.script("plan-run", "PLAN-0: one grey cube, 1 m, a little right of centre.")
    fake.script("gen-run", f"Building it.\n```python\n{GOOD}```")
    fake.script("vlm-run", VERDICT)
    run_id = await runs.start(CUBE, builder="llm", verifier="both", attempts=1, iterations=1, threshold=0.5,
                              models={"builder": ["openai/gen-run"], "planner": ["openai/plan-run"],
                                      "verifier": ["openai/vlm-run"]})
    status = await runs.wait(run_id)
    assert status.status == "completed", status
    assert not fake.requests_for("gen-config") and not fake.requests_for("vlm-config"), "colossus.toml's chains stay unused"
    plan_request, build_request = fake.requests_for("plan-run")[-1], fake.requests_for("gen-run")[-1]
    assert plan_request.received_s < build_request.received_s, "the plan comes before the code"
    assert "PLAN-0" in build_request.body["messages"][-1]["content"], "the builder is given the plan last"
    assert fake.requests_for("vlm-run")[-1].image_urls(), "the run's verifier judged the renders"

    root = Path(status.run_dir)
    assert (root / "attempts/attempt-000/iterations/iter-000/plan.txt").read_text().startswith("PLAN-0")
    meta = json.loads((root / "run.json").read_text())
    assert meta["models"]["builder"] == ["openai/gen-run"] and meta["models"]["verifier"] == ["openai/vlm-run"]
    assert meta["config"]["models"] == {"builder": ["openai/gen-run"], "planner": ["openai/plan-run"],
                                        "verifier": ["openai/vlm-run"]}
    assert status.models_used == {"planner": ["openai/plan-run"], "builder": ["openai/gen-run"],
                                  "verifier": ["openai/vlm-run"]}
    report = (root / "report.html").read_text()
    assert "builder: openai/gen-run" in report and "planner: openai/plan-run" in report


async def test_the_task_file_names_models_and_start_run_overrides_them_role_by_role(runs: RunService, fake, tmp_path):
    task = tmp_path / "cube"
    shutil.copytree(CUBE.parent, task)
    (task / "task.toml").write_text((CUBE).read_text() + '\n[models]\nbuilder = "openai/gen-run"\nplanner = ["openai/plan-run"]\n')
    fake.script("gen-run", f"```python\n{GOOD}```", f"```python\n{GOOD}```")
    fake.script("plan-run", "PLAN-A")
    first = await runs.wait(await runs.start(task / "task.toml", builder="llm", attempts=1, iterations=1))
    assert first.models_used == {"planner": ["openai/plan-run"], "builder": ["openai/gen-run"]}
    second = await runs.wait(await runs.start(task / "task.toml", builder="llm", attempts=1, iterations=1,
                                              models={"planner": ["openai/gen-config"]}))
    assert second.models == {**second.models, "builder": ["openai/gen-run"], "planner": ["openai/gen-config"]}
    fork = await runs.fork(second.run_id, 0, 0, iterations=1, models={"builder": ["openai/gen-config"]})
    forked = runs.status(fork)
    assert forked.models["builder"] == ["openai/gen-config"] and forked.models["planner"] == ["openai/gen-config"], \
        "a fork keeps its source's choice for the roles it does not name"
    await runs.cancel(fork)


async def test_a_bad_choice_fails_before_a_run_folder_exists(runs: RunService):
    before = set(runs.runs_dir.iterdir())
    with pytest.raises(TaskError, match="unknown role 'critic'"):
        await runs.start(CUBE, models={"critic": ["openai/gen-run"]})
    with pytest.raises(TaskError, match="'openai/text-run' cannot take images"):
        await runs.start(CUBE, verifier="vlm", models={"verifier": ["openai/text-run"]})
    with pytest.raises(TaskError, match="litellm knows no provider"):
        await runs.start(CUBE, builder="llm", models={"builder": ["gen-run"]})
    assert set(runs.runs_dir.iterdir()) == before

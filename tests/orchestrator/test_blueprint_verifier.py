"""A VLM verifier (the local OpenAI-compatible server, scripted) judging the hull: it is shown each
drawing beside the orthographic render of the same view, and its verdict scores the iteration
while the blueprint measurement still lands in the step for the builder."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.services import GatewayServices
from orchestrator.checkpoint import Checkpoint
from orchestrator.service import RunService
from tests.fakes.openai_server import FakeOpenAIServer
from tests.orchestrator.conftest import verifier_services

HULL = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hull"
VERDICT = json.dumps({"overall_score": 0.4, "is_complete": False, "issues": ["the hull is too short for the plan"],
                      "suggestions": ["lengthen the hull"], "positive_aspects": ["a funnel"],
                      "scores": {"composition": 0.5, "lighting": 0.8, "materials": 0.6, "goal_match": 0.3}})


@pytest.fixture(scope="module")
async def services(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAIServer) -> AsyncIterator[GatewayServices]:
    async with verifier_services(tmp_path_factory.mktemp("plans-vlm"), fake, "openai/vlm-plans") as services:
        yield services


async def test_the_verifier_sees_each_drawing_beside_its_orthographic_render(services, fake) -> None:
    fake.script("vlm-plans", VERDICT)
    runs = RunService(services.provider, services.vision, services.config.runs_dir)
    run_id = await runs.start(HULL / "task.toml", verifier="vlm", attempts=1, iterations=1)
    status = await runs.wait(run_id)
    assert status.status == "completed", status
    step = Checkpoint.read(Path(status.run_dir))[0].memory.steps[0]
    assert step.critique is not None and step.score == pytest.approx(0.4 - step.sentinel_penalty)
    assert step.blueprint is not None and step.blueprint.overall_residual_m["length"] < -5  # measured all the same
    request = fake.requests_for("vlm-plans")[-1]
    assert len(request.image_urls()) == 5  # iso, plan_side, plan_top renders; the side and top drawings
    text = json.dumps(request.body["messages"])
    assert "Reference, view plan_side:" in text and "Reference, view plan_top:" in text

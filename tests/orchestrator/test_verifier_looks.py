"""The investigating verifier on real Blender: a scripted VLM (the local OpenAI-compatible server) asks for a
close-up and for an object that does not exist before judging; the look is rendered from the iteration's
program, shown to it, and saved with the iteration."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from gateway.dashboard.iteration import iteration_detail
from gateway.services import GatewayServices
from orchestrator.checkpoint import Checkpoint
from orchestrator.service import RunService
from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.orchestrator.conftest import verifier_services

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"
VERDICT = json.dumps({"overall_score": 0.7, "is_complete": False, "issues": ["the cube is too small"],
                      "suggestions": ["scale the cube to 1 m"], "positive_aspects": ["grey"],
                      "scores": {"composition": 0.7, "lighting": 0.8, "materials": 0.6, "goal_match": 0.7}})


def look(n: int, **arguments: object) -> dict:
    return {"id": f"look_{n}", "type": "function", "function": {"name": "look", "arguments": json.dumps(arguments)}}


@pytest.fixture(scope="module")
async def services(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAIServer) -> AsyncIterator[GatewayServices]:
    async with verifier_services(tmp_path_factory.mktemp("looks"), fake, "openai/vlm-looks", function_calling=True) as services:
        yield services


def subject_fraction(path: Path) -> float:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).astype(int)
    return float((np.abs(image - image[0, 0]) > 12).mean())


async def test_the_verifier_asks_for_a_close_up_gets_it_and_the_look_is_kept_with_the_iteration(services, fake):
    fake.script("vlm-looks", Reply(tool_calls=[look(1, kind="closeup", object="Cube", view="front", reason="size?"),
                                               look(2, kind="isolate", object="Ghost")]), VERDICT)
    runs = RunService(services.provider, services.vision, services.config.runs_dir)
    run_id = await runs.start(CUBE, builder="parametric", verifier="vlm", attempts=1, iterations=1)
    status = await runs.wait(run_id)
    assert status.status == "completed", status
    step = Checkpoint.read(Path(status.run_dir))[0].memory.steps[0]
    assert step.critique is not None and step.critique.overall_score == 0.7 and step.score == pytest.approx(0.7 - step.sentinel_penalty)
    close, ghost = step.critique.looks
    assert close.request.kind == "closeup" and close.error is None
    assert Path(close.image) == Path(status.run_dir) / "attempts/attempt-000/iterations/iter-000/looks/verifier-1/front.png"
    assert subject_fraction(Path(close.image)) > 3 * subject_fraction(Path(step.renders["front"])), "the cube fills the frame"
    assert ghost.image is None and "no object named 'Ghost'" in ghost.error and "Cube" in ghost.error
    assert len(step.calls) == 2 and all(c.model == "openai/vlm-looks" for c in step.calls), "both turns are paid for"

    first, second = fake.requests_for("vlm-looks")[-2:]
    assert [t["function"]["name"] for t in first.body["tools"]] == ["look"]
    assert "tools" not in second.body, "no look left: it must judge"
    assert len(second.image_urls()) == len(first.image_urls()) + 1
    text = json.dumps(second.body["messages"])
    assert "Extra look 1 you asked for (Cube close up, from the front view)" in text and "it could not be taken" in text
    verifier = json.loads((Path(status.run_dir) / "attempts/attempt-000/iterations/iter-000/verifier.json").read_text())
    assert [lk["request"]["kind"] for lk in verifier["critique"]["looks"]] == ["closeup", "isolate"]
    report = (Path(status.run_dir) / "report.html").read_text()
    assert 'src="attempts/attempt-000/iterations/iter-000/looks/verifier-1/front.png"' in report and "isolate failed" in report
    shown = iteration_detail(services.config.runs_dir, run_id, 0, 0, lambda _folder, path: path.parent.name)
    assert shown.looks == {"verifier-1 front": "verifier-1"}, "the dashboard shows the look too"

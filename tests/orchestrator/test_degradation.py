"""Runs whose remote models are all down: the offline entry of a chain takes over and the run says
so; without one, the attempt stops with a clear error. Real Blender, the real vision server and a
real local OpenAI-compatible server on which every model answers HTTP 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.services import GatewayServices
from harness.model_config import ModelsConfig
from orchestrator.checkpoint import Checkpoint
from orchestrator.service import RunService
from tests.fakes.openai_server import FakeOpenAIServer
from tests.orchestrator.conftest import running_services

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"
DOWN = ("openai/gen-down-1", "openai/gen-down-2", "openai/vlm-down")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:  # nothing scripted: every request gets HTTP 500
        yield server


def _table(fake: FakeOpenAIServer, **chains: list[str]) -> dict:
    return {**chains, "router": {"num_retries": 1}, "settings": {m: {"api_base": fake.base_url, "api_key": "k"} for m in DOWN}}


@pytest.fixture(scope="module")
async def services(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAIServer) -> AsyncIterator[GatewayServices]:
    root = tmp_path_factory.mktemp("degrade")
    toml = root / "colossus.toml"  # the vision server's verifier chain
    toml.write_text(f'[models]\nverifier = ["openai/vlm-down"]\n[models.router]\nnum_retries = 1\n'
                    f'[models.settings."openai/vlm-down"]\napi_base = "{fake.base_url}"\napi_key = "k"\n')
    async with running_services(root, workers=1, config_file=toml) as services:
        yield services


def _runs(services: GatewayServices, fake: FakeOpenAIServer, **chains: list[str]) -> RunService:
    return RunService(services.provider, services.vision, services.config.runs_dir,
                      ModelsConfig.from_table(_table(fake, **chains), env={}))


async def test_every_builder_model_down_hands_the_attempt_to_the_parametric_builder(services, fake):
    runs = _runs(services, fake, builder=["openai/gen-down-1", "openai/gen-down-2", "parametric"])
    before = len(fake.requests)
    run_id = await runs.start(CUBE, builder="llm", verifier="metrics", attempts=1, iterations=3, threshold=1.0)
    status = await runs.wait(run_id)
    assert status.status == "completed" and status.attempts[0].iterations == 3, status
    steps = Checkpoint.read(Path(status.run_dir))[0].memory.steps
    assert [s.builder for s in steps] == ["parametric"] * 3 and all(s.ran and s.score > 0 for s in steps)
    assert [(d.role, d.backend) for d in steps[0].degradations] == [("builder", "parametric")]
    assert not steps[1].degradations, "the role stays offline; it degrades once"
    # the remote chain was tried once (each model with its retry), then never again in this attempt
    asked = [r.model for r in fake.requests[before:]]
    assert asked == ["gen-down-1", "gen-down-1", "gen-down-2", "gen-down-2"], asked
    calls = json.loads((Path(status.run_dir) / "attempts/attempt-000/iterations/iter-000/models.json").read_text())
    assert calls[0]["model"] is None and calls[0]["retries"] == 2
    assert [e.split(":")[0] for e in calls[0]["errors"]] == ["openai/gen-down-1", "openai/gen-down-2"]
    assert all("InternalServerError" in e for e in calls[0]["errors"])
    meta = json.loads((Path(status.run_dir) / "run.json").read_text())
    assert [(d["attempt"], d["iteration"], d["role"], d["backend"]) for d in meta["degraded"]] == [(0, 0, "builder", "parametric")]
    assert status.degraded == meta["degraded"] and "gen-down-2" in status.degraded[0]["reason"]
    html = (Path(status.run_dir) / "report.html").read_text()
    assert "Offline backends took over" in html and "builder → parametric" in html


async def test_every_builder_model_down_without_an_offline_entry_stops_clearly(services, fake):
    runs = _runs(services, fake, builder=["openai/gen-down-1"])
    run_id = await runs.start(CUBE, builder="llm", verifier="metrics", attempts=1, iterations=3)
    status = await runs.wait(run_id)
    assert status.status == "failed" and status.attempts[0].status == "failed" and status.attempts[0].iterations == 0
    assert "every model failed (openai/gen-down-1)" in status.attempts[0].error and not status.degraded


async def test_every_verifier_model_down_lets_the_metrics_score_the_rest_of_the_attempt(services, fake):
    runs = _runs(services, fake, verifier=["openai/vlm-down", "metrics"])
    before = len(fake.requests_for("vlm-down"))
    run_id = await runs.start(CUBE, builder="parametric", verifier="vlm", attempts=1, iterations=3, threshold=1.0)
    status = await runs.wait(run_id)
    assert status.status == "completed" and status.attempts[0].iterations == 3, status
    steps = Checkpoint.read(Path(status.run_dir))[0].memory.steps
    assert [(d.role, d.backend) for d in steps[0].degradations] == [("verifier", "metrics")]
    reason = steps[0].degradations[0].reason
    assert "VERIFIER_UNAVAILABLE" in reason and "openai/vlm-down: InternalServerError" in reason
    for step in steps:  # scored by the metrics alone, no critique
        assert step.critique is None and step.compare is not None
        assert step.score == pytest.approx(max(0.0, step.compare.score - step.sentinel_penalty))
    assert len(fake.requests_for("vlm-down")) - before == 2, "one request and its retry, then never again"
    assert status.degraded[0]["role"] == "verifier"


async def test_every_verifier_model_down_without_an_offline_entry_stops_clearly(services, fake):
    runs = _runs(services, fake, verifier=["openai/vlm-down"])
    run_id = await runs.start(CUBE, builder="parametric", verifier="vlm", attempts=1, iterations=3)
    status = await runs.wait(run_id)
    assert status.attempts[0].status == "failed" and status.status == "failed"
    assert "VERIFIER_UNAVAILABLE" in status.attempts[0].error
    assert "no offline verifier can take over" in status.attempts[0].error

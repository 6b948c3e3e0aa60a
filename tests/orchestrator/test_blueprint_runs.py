"""The hull example end to end on real workers and the real vision server: the parametric builder,
offline, fits the plans within the task's own budget; its artifacts carry the blueprint
measurement and report.html shows each drawing beside its orthographic render."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.services import GatewayServices
from orchestrator.errors import TaskError
from orchestrator.service import RunService

from tests.orchestrator.conftest import running_services

HULL = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hull"


@pytest.fixture(scope="module")
async def services(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GatewayServices]:
    async with running_services(tmp_path_factory.mktemp("runs"), workers=2) as services:
        yield services


async def test_the_hull_reaches_its_threshold_from_its_plans_within_its_budget(services: GatewayServices) -> None:
    runs = RunService(services.provider, services.vision, services.config.runs_dir)
    run_id = await runs.start(HULL / "task.toml")  # the task's budget: 2 attempts × 8 iterations
    status = await runs.wait(run_id)
    assert status.status == "completed" and status.best_score >= 0.95, status  # the task's threshold
    root = Path(status.run_dir)
    meta = json.loads((root / "run.json").read_text())
    assert meta["config"]["builder"] == "parametric" and meta["config"]["verifier"] == "metrics"
    best = json.loads((root / "best_attempt.json").read_text())
    assert set(best["renders"]) == {"iso", "plan_side", "plan_top"}
    it = root / "attempts" / f"attempt-{best['attempt']:03d}" / "iterations" / f"iter-{best['iteration']:03d}"
    verdict = json.loads((it / "verifier.json").read_text())
    plans = verdict["blueprint"]
    assert plans["score"] >= 0.95 and all(v["iou"] >= 0.95 for v in plans["views"].values())
    assert all(abs(d) / plans["overall_m"][k] <= 0.02 for k, d in plans["overall_residual_m"].items())
    assert "Blueprint match" in verdict["feedback"]
    first = json.loads((root / "attempts" / "attempt-000" / "iterations" / "iter-000" / "verifier.json").read_text())
    assert any("too short" in d for d in first["blueprint"]["directions"])  # the start is 6 m short
    html = (root / "report.html").read_text()
    assert "Against the plans" in html and 'src="plans/side.png"' in html and "renders/plan_side.png" in html
    assert (root / "plans" / "top.png").is_file()


async def test_an_inline_blueprint_error_names_the_key(services: GatewayServices) -> None:
    runs = RunService(services.provider, services.vision, services.config.runs_dir, allowed_roots=[HULL])
    with pytest.raises(TaskError, match="inline task: blueprint.span_m: must be > 0"):
        await runs.start({"description": "a hull", "blueprint": {"span_m": 0, "side": str(HULL / "plans" / "side.png")}})

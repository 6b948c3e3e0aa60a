"""Coordinator runs with the pool on a real two-node Ray cluster: every artifact written, a task's .blend shipped."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.services import GatewayServices
from orchestrator.service import RunService
from tests.gateway.conftest import RAY_OBJECT_STORE, ray_cluster  # noqa: F401 - the module's cluster fixture
from tests.orchestrator.conftest import running_services
from tests.orchestrator.test_blend_baseline import blends, executions, task_folder  # noqa: F401 - fixture

pytest.importorskip("ray")

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
async def services(ray_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GatewayServices]:  # noqa: F811
    async with running_services(tmp_path_factory.mktemp("ray-runs"), workers=2, backend="ray",
                                ray_address=ray_cluster.address) as services:
        assert await services.pool.wait_ready(120, count=2) == 2, services.pool.status()
        yield services


@pytest.fixture(scope="module")
def runs(services: GatewayServices) -> RunService:
    return RunService(services.provider, services.vision, services.config.runs_dir)


async def test_two_attempts_on_the_cluster_write_every_artifact_renders_included(runs: RunService) -> None:
    run_id = await runs.start(CUBE, builder="parametric", verifier="metrics", attempts=2, iterations=3, threshold=1.0)
    status = await runs.wait(run_id)
    assert status.status == "completed" and len(status.attempts) == 2, status
    root = Path(status.run_dir)
    for name in ("run.json", "task.toml", "baseline.blend", "summary.json", "best_attempt.json", "report.html"):
        assert (root / name).is_file(), name
    best = json.loads((root / "best_attempt.json").read_text())
    assert all((root / p).read_bytes()[:8] == PNG_MAGIC for p in best["renders"].values())
    for attempt in (0, 1):
        folder = root / "attempts" / f"attempt-{attempt:03d}"
        for name in ("attempt.json", "strategy.txt", "final_score.json"):
            assert (folder / name).is_file(), (attempt, name)
        assert (folder / "final_scene.blend").stat().st_size > 10_000, "final_scene.blend came back from the actor"
        for it in sorted((folder / "iterations").iterdir()):
            for name in ("plan.txt", "code.py", "execution.json", "sentinel.json", "verifier.json", "models.json"):
                assert (it / name).is_file(), (attempt, it.name, name)
            for view in ("front", "top"):
                assert (it / "renders" / f"{view}.png").read_bytes()[:8] == PNG_MAGIC, (attempt, it.name, view)
    assert executions(root) == [True, True, True]


async def test_a_task_with_a_blend_baseline_runs_on_the_cluster(runs: RunService, blends, tmp_path: Path) -> None:  # noqa: F811
    run_id = await runs.start(task_folder(tmp_path / "task", blends["zstd"]), builder="parametric", verifier="metrics")
    status = await runs.wait(run_id)
    assert status.status == "completed" and status.attempts[0].iterations == 3, status
    assert executions(Path(status.run_dir)) == [True, True, True], "Heirloom, only in the .blend, was there to move"
    assert not blends["marker"].exists(), "loading the baseline ran the text block embedded in the .blend"


async def test_an_attempt_carries_on_when_the_node_under_it_is_lost(
        services: GatewayServices, runs: RunService, ray_cluster: Any) -> None:  # noqa: F811
    run_id = await runs.start(CUBE, builder="parametric", verifier="metrics", attempts=1, iterations=12, threshold=1.0)
    status = await runs.get(run_id, wait_s=30)
    while status.active and (not status.attempts or status.attempts[0].iterations < 1):
        status = await runs.get(run_id, wait_s=30)
    [lease] = services.pool.scenes()
    lost = lease.worker.node
    ray_cluster.remove_node(next(n for n in ray_cluster.list_all_nodes() if n.node_id == lost), allow_graceful=False)
    try:
        status = await runs.wait(run_id)
        assert status.status == "completed" and status.attempts[0].iterations == 12, status
        assert lease.worker.node != lost, "the attempt's scene moved to the live node"
        assert (Path(status.run_dir) / "attempts/attempt-000/final_scene.blend").stat().st_size > 10_000
    finally:
        ray_cluster.add_node(num_cpus=1, resources={"blender": 1}, object_store_memory=RAY_OBJECT_STORE)

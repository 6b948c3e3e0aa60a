"""Recall on real runs: the second run of a task starts warm from the first and needs far fewer renders; a
damaged index costs nothing; a run may opt out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from harness.residuals import VECTOR_NAMES
from orchestrator.builders.parametric import fitted_jacobian
from orchestrator.checkpoint import Checkpoint
from orchestrator.recall import INDEX_FILE
from orchestrator.service import RunService
from tests.orchestrator.conftest import running_services

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"


@pytest.fixture(scope="module")
async def runs(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunService]:
    async with running_services(tmp_path_factory.mktemp("recall"), workers=1) as services:
        yield RunService(services.provider, services.vision, services.config.runs_dir)


async def renders_to(runs: RunService, threshold: float, **options) -> tuple[int, object]:
    status = await runs.wait(await runs.start(CUBE, builder="parametric", verifier="metrics", attempts=1, iterations=12,
                                              threshold=threshold, **options))
    steps = Checkpoint.read(Path(status.run_dir))[0].memory.steps
    return next((s.index + 1 for s in steps if s.score >= threshold), 99), status


async def test_a_second_run_of_a_task_starts_warm_from_the_first_even_with_a_damaged_index(runs: RunService):
    cold, first = await renders_to(runs, 0.9)
    assert first.recalled is None and first.status == "completed"
    (runs.runs_dir / ".memory" / INDEX_FILE).write_text("{damaged")
    warm, second = await renders_to(runs, 0.9)
    assert second.recalled is not None and second.recalled["run_id"] == first.run_id, second.recalled
    assert second.recalled["similarity"] > 0.95 and second.recalled["used"][0] == "start parameters: offset_x, size"
    assert warm <= max(1, cold // 2), (warm, cold)
    start = (Path(second.run_dir) / "start.py").read_text()
    assert "size = 0.6  # param" not in start, "the run folder's start program holds the recalled values"
    assert f"started warm from {first.run_id}" in (Path(second.run_dir) / "report.html").read_text()
    _, third = await renders_to(runs, 0.9, recall=False)
    assert third.recalled is None


async def test_a_measured_runs_jacobian_is_fitted_from_its_probes_too(runs: RunService):
    """The measured search renders too few points to span the geometry (its geometric columns are probes): the
    first two renders span one direction, their probes both. A warm start borrows this Jacobian."""
    _, status = await renders_to(runs, 0.9, recall=False)
    steps = Checkpoint.read(Path(status.run_dir))[0].memory.steps[:2]
    assert sum(len(s.probes) for s in steps) >= 2, "the search measured its columns"
    jacobian = fitted_jacobian(CUBE.with_name("start.py").read_text(), steps)
    assert jacobian is not None
    right = VECTOR_NAMES.index("right")  # the front view's right edge (views in name order: front first)
    grows_with_size, moves_with_offset = jacobian[right]
    assert moves_with_offset > 0.1 and grows_with_size > 0.1, jacobian[right]

"""The loop renders Cycles tasks at the preview tier (a task may choose production) and the report says on what."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orchestrator.checkpoint import Checkpoint
from orchestrator.service import RunService
from tests.orchestrator.conftest import running_services

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"


@pytest.fixture(scope="module")
async def runs(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunService]:
    async with running_services(tmp_path_factory.mktemp("tiers"), workers=1) as services:
        yield RunService(services.provider, services.vision, services.config.runs_dir)


def _cycles_task(tmp_path: Path, tier: str | None) -> Path:
    folder = tmp_path / f"cube-{tier}"
    shutil.copytree(CUBE.parent, folder)
    text = CUBE.read_text().replace('preset = "preview"', 'preset = "final"\nsamples_note = 0').replace(
        "samples_note = 0", f'tier = "{tier}"' if tier else "")
    (folder / "task.toml").write_text(text)
    return folder / "task.toml"


@pytest.mark.parametrize(("tier", "shown"), [(None, "preview"), ("production", "production")])
async def test_the_loop_renders_cycles_at_the_preview_tier_unless_the_task_asks_for_production(runs, tmp_path, tier, shown):
    status = await runs.wait(await runs.start(_cycles_task(tmp_path, tier), builder="parametric", verifier="metrics",
                                              attempts=1, iterations=1))
    assert status.status == "completed", status
    step = Checkpoint.read(Path(status.run_dir))[0].memory.steps[0]
    assert step.cycles is not None and (step.cycles.device, step.cycles.tier, step.cycles.samples) == ("CPU", shown, 32)
    assert f"rendered on CPU, 32 samples ({shown})" in (Path(status.run_dir) / "report.html").read_text()

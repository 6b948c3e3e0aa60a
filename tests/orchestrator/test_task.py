"""Task files and inline tasks: validated, paths kept inside the task folder, errors name field and file."""

import base64
from pathlib import Path

import pytest

from orchestrator.errors import TaskError
from orchestrator.task import inline_task, load_task, task_to_toml

from tests.orchestrator.conftest import PNG


def write_task(tmp_path: Path, body: str) -> Path:
    (tmp_path / "ref").mkdir(exist_ok=True)
    (tmp_path / "ref" / "front.png").write_bytes(PNG)
    (tmp_path / "start.py").write_text("x = 1.0  # param 0..2\n")
    path = tmp_path / "task.toml"
    path.write_text(body)
    return path


GOOD = '''name = "cube"
description = "a cube"
[start]
program = "start.py"
[reference]
front = "ref/front.png"
[render]
resolution = 64
[budget]
iterations = 4
'''


def test_a_valid_task_file_resolves_references_and_loads_the_start_program(tmp_path):
    task = load_task(write_task(tmp_path, GOOD))
    assert task.references["front"] == (tmp_path / "ref" / "front.png").resolve()
    assert task.start_code.startswith("x = 1.0")
    assert task.render.resolution == 64 and task.budget.iterations == 4 and task.budget.attempts == 3


@pytest.mark.parametrize("change, field", [
    (('front = "ref/front.png"', 'front = "../outside.png"'), "reference.front"),
    (('front = "ref/front.png"', 'front = "ref/missing.png"'), "reference.front"),
    (('front = "ref/front.png"', 'sideways = "ref/front.png"'), "reference.sideways"),
    (("iterations = 4", "iterations = 0"), "budget.iterations"),
    (("resolution = 64", "resolution = 99999"), "render.resolution"),
    (('program = "start.py"', 'program = "/etc/passwd"'), "start.program"),
    (('name = "cube"', 'name = "cube"\ncolour = "red"'), "colour"),
])
def test_invalid_fields_are_named_with_the_file(tmp_path, change, field):
    (tmp_path.parent / "outside.png").write_bytes(PNG)
    path = write_task(tmp_path, GOOD.replace(*change))
    with pytest.raises(TaskError) as err:
        load_task(path)
    assert str(path) in str(err.value) and field in str(err.value)


def test_invalid_toml_and_missing_files_are_clear(tmp_path):
    with pytest.raises(TaskError, match="task file not found"):
        load_task(tmp_path / "nope.toml")
    with pytest.raises(TaskError, match="invalid TOML"):
        load_task(write_task(tmp_path, "name = "))


def test_inline_task_accepts_base64_and_data_urls_and_refuses_garbage(tmp_path):
    b64 = base64.b64encode(PNG).decode()
    task = inline_task("a red cube", {"front": b64, "iso": "data:image/png;base64," + b64}, staging_dir=tmp_path)
    assert task.references["front"].read_bytes() == PNG and task.references["iso"].suffix == ".png"
    with pytest.raises(TaskError, match="reference.front"):
        inline_task("x", {"front": "bm90IGFuIGltYWdl"}, staging_dir=tmp_path)
    with pytest.raises(TaskError, match="outside the allowed roots"):
        inline_task("x", {"front": str(write_task(tmp_path, GOOD).parent / "ref" / "front.png")}, staging_dir=tmp_path)


def test_a_task_written_back_as_toml_loads_to_the_same_task(tmp_path):
    task = load_task(write_task(tmp_path, GOOD))
    out = tmp_path / "copy"
    (out / "ref").mkdir(parents=True)
    (out / "ref" / "front.png").write_bytes(PNG)
    (out / "start.py").write_text(task.start_code)
    (out / "task.toml").write_text(task_to_toml(task, {"front": "ref/front.png"}, "start.py"))
    again = load_task(out / "task.toml")
    assert again.model_dump(exclude={"references", "source"}) == task.model_dump(exclude={"references", "source"})


def test_every_budget_key_reaches_the_run_config_unless_overridden(tmp_path):
    """[budget] keys are RunConfig fields of the same name: a new key cannot be dropped on the way."""
    from orchestrator.service import RunService
    from orchestrator.state import RunConfig
    from orchestrator.task import Budget

    assert set(Budget.model_fields) <= set(RunConfig.model_fields)
    text = GOOD.replace("iterations = 4", "iterations = 4\ntool_calls = 3\nverifier_looks = 0\nmax_tokens = 900")
    config = RunService(None, None, tmp_path / "runs")._config(load_task(write_task(tmp_path, text)), {"tool_calls": 5})
    assert (config.iterations, config.tool_calls, config.verifier_looks, config.max_tokens) == (4, 5, 0, 900)

"""The tool-using builder on real Blender: a scripted model (the local OpenAI-compatible server) answers
with tool_calls; the scene really changes, every call lands in tools.json, the iteration's program
replays from the baseline to the same renders, and a resumed run continues from it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.dashboard.iteration import iteration_detail
from gateway.services import GatewayServices
from harness.model_config import ModelsConfig
from harness.scene_types import RenderSettings
from orchestrator.checkpoint import Checkpoint
from orchestrator.service import RunService
from orchestrator.task import load_task
from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.orchestrator.conftest import running_services

CUBE = Path(__file__).parent / "data" / "cube" / "task.toml"
MODEL = "openai/gen-tools"


def call(tool: str, n: int, **arguments: object) -> dict:
    return {"id": f"call_{n}", "type": "function", "function": {"name": tool, "arguments": json.dumps(arguments)}}


STRETCH = [  # a geometry-nodes modifier that doubles the cube's height
    call("gn_create_modifier", 1, object_name="Cube", group_name="Stretch"),
    call("gn_add_node", 2, group="Stretch", node_type="GeometryNodeTransform", name="T"),
    call("gn_link", 3, group="Stretch", from_node="Group Input", from_socket=0, to_node="T", to_socket="Geometry"),
    call("gn_link", 4, group="Stretch", from_node="T", from_socket="Geometry", to_node="Group Output", to_socket=0),
    call("gn_set_input", 5, group="Stretch", node="T", socket="Scale", value=[1, 1, 2]),
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="module")
async def services(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GatewayServices]:
    async with running_services(tmp_path_factory.mktemp("tools"), workers=1) as services:
        yield services


def runs(services: GatewayServices, fake: FakeOpenAIServer) -> RunService:
    table = {"builder": [MODEL], "settings": {MODEL: {"api_base": fake.base_url, "api_key": "k", "function_calling": True}},
             "router": {"num_retries": 0}}
    return RunService(services.provider, services.vision, services.config.runs_dir, ModelsConfig.from_table(table, env={}))


async def test_tool_calls_change_the_scene_are_recorded_and_replay_from_the_baseline(services, fake, tmp_path):
    fake.script("gen-tools",
                Reply(text="Stretch it with geometry nodes.", tool_calls=STRETCH),
                Reply(tool_calls=[call("execute_code", 6, code="bpy.data.objects['Cube'].location.z = 2.0"),
                                  call("transform_to_floor", 7, names=["Cube"]), call("look", 8, view="front")]),
                Reply(tool_calls=[call("no_such_tool", 9)]),
                "Doubled the height and put it on the floor.")
    service = runs(services, fake)
    run_id = await service.start(CUBE, builder="llm", verifier="metrics", attempts=1, iterations=1, tool_calls=12)
    status = await service.wait(run_id)
    assert status.status == "completed", status
    step = Checkpoint.read(Path(status.run_dir))[0].memory.steps[0]
    assert step.builder == "llm-tools" and step.ran and step.score > 0
    cube = next(o for o in step.scene.objects if o.name == "Cube")  # facts of the program replayed from the baseline
    assert cube.location[2] == pytest.approx(0.6, abs=1e-4), "stretched to 1.2 m by the modifier, then floored"
    assert cube.modifiers == ["Stretch"]

    folder = Path(status.run_dir) / "attempts/attempt-000/iterations/iter-000"
    records = json.loads((folder / "tools.json").read_text())
    assert [r["name"] for r in records] == [c["function"]["name"] for c in STRETCH] + [
        "execute_code", "transform_to_floor", "look", "no_such_tool"]
    assert all(r["ok"] for r in records[:-1]) and not records[-1]["ok"]
    assert "no tool named 'no_such_tool'" in records[-1]["result"] and "transform_to_floor" in records[-1]["result"]
    assert records[6]["recorded"] == "tools.transform_to_floor(names=['Cube'])\n"
    assert '"name": "Cube"' in records[6]["result"] and records[7]["recorded"] is None
    code = (folder / "code.py").read_text()
    assert code.startswith(load_task(CUBE).start_code.rstrip()) and code.count("tools.gn_") == 5
    assert code.index("location.z = 2.0") < code.index("tools.transform_to_floor")
    assert (folder / "looks/builder-1/front.png").stat().st_size > 0
    assert (folder / "plan.txt").read_text().strip() == "Doubled the height and put it on the floor."
    report = (Path(status.run_dir) / "report.html").read_text()
    assert "Built through 9 tool call(s): gn_create_modifier, gn_add_node" in report and "no_such_tool ✗" in report
    shown = iteration_detail(services.config.runs_dir, run_id, 0, 0, lambda _folder, path: path.name)
    assert [t["name"] for t in shown.tool_calls] == [r["name"] for r in records] and shown.looks == {"builder-1 front": "front.png"}

    requests = fake.requests_for("gen-tools")[-4:]
    offered = {t["function"]["name"] for t in requests[0].body["tools"]}
    assert {"execute_code", "look", "get_scene_info", "reset_scene", "transform_to_floor", "gn_add_node"} <= offered
    assert requests[2].image_urls()[-1].startswith("data:image/png;base64,"), "the look came back as an image"
    tool_replies = [m for m in requests[3].body["messages"] if m["role"] == "tool"]
    assert len(tool_replies) == 9 and tool_replies[6]["tool_call_id"] == "call_7"

    # the recorded program alone, from a fresh baseline, builds the scene that was scored: same pixels
    async with services.provider.lease() as scene:
        replay = await scene.execute_and_render(code, RenderSettings(**load_task(CUBE).render.model_dump()), tmp_path)
    assert replay.report.success
    for view, path in step.renders.items():
        assert (tmp_path / f"{view}.png").read_bytes() == Path(path).read_bytes(), view


async def test_a_spent_tool_budget_ends_the_turn_and_a_resumed_run_continues_from_the_recorded_program(services, fake):
    lift = [call("execute_code", 1, code="bpy.data.objects['Cube'].location.z = 1.5"), call("get_scene_info", 2),
            call("look", 3, view="top"), call("transform_to_floor", 4)]
    fake.script("gen-tools", Reply(tool_calls=lift), Reply(text="thinking", delay_s=20), "Nothing to change.")
    service = runs(services, fake)
    before = len(fake.requests_for("gen-tools"))
    run_id = await service.start(CUBE, builder="llm", verifier="metrics", attempts=1, iterations=2, threshold=1.0,
                                 tool_calls=3)
    while len(fake.requests_for("gen-tools")) < before + 2:  # iteration 1 is waiting on its model: stop the run
        await asyncio.sleep(0.05)
    await service.cancel(run_id)
    first = Checkpoint.read(Path((await service.get(run_id)).run_dir))[0].memory.steps
    records = first[0].tool_calls
    assert len(first) == 1 and [r.name for r in records] == ["execute_code", "get_scene_info", "look", "transform_to_floor"]
    assert [r.ok for r in records] == [True, True, True, False] and records[3].result.startswith("not run")
    assert '"name":"Cube"' in records[1].result and len(fake.requests_for("gen-tools")) == before + 2, \
        "a spent budget ends the turn without asking again"
    floating = [i for i in first[0].sentinel.issues if i.suggested_tool == "transform_to_floor"]
    assert floating, "the cube was left in the air: the sentinel says so and names the tool"

    await service.resume(run_id)
    status = await service.wait(run_id)
    steps = Checkpoint.read(Path(status.run_dir))[0].memory.steps
    assert status.attempts[0].iterations == 2 and steps[1].ran and steps[1].builder == "llm-tools"
    asked = fake.requests_for("gen-tools")[-1].body["messages"][-1]["content"]
    assert f"{floating[0].message} → transform_to_floor(" in asked, "the suggestion is offered as a call to make"
    assert steps[1].code == steps[0].code, "the turn started from the best program and changed nothing"
    for view in steps[0].renders:
        assert Path(steps[1].renders[view]).read_bytes() == Path(steps[0].renders[view]).read_bytes(), view


async def test_a_model_that_cannot_call_functions_keeps_writing_whole_programs(services, fake):
    fake.script("gen-plain", f"Same.\n```python\n{load_task(CUBE).start_code}```")
    table = {"builder": ["openai/gen-plain"], "router": {"num_retries": 0},
             "settings": {"openai/gen-plain": {"api_base": fake.base_url, "api_key": "k", "function_calling": False}}}
    service = RunService(services.provider, services.vision, services.config.runs_dir, ModelsConfig.from_table(table, env={}))
    status = await service.wait(await service.start(CUBE, builder="llm", verifier="metrics", attempts=1, iterations=1))
    step = Checkpoint.read(Path(status.run_dir))[0].memory.steps[0]
    assert step.builder == "llm" and step.ran and not step.tool_calls
    assert "tools" not in fake.requests_for("gen-plain")[-1].body


async def test_the_recorded_program_rebuilds_the_live_scene_even_when_each_part_draws_random_numbers(services, tmp_path):
    from orchestrator.workbench import Workbench

    async with services.provider.lease() as scene:
        bench = Workbench(scene, lambda: scene.reset("empty"), load_task(CUBE).render, tmp_path, 30)
        await bench.begin("")
        for _ in range(2):  # each call is seeded afresh by the worker: both cubes land at the same random x
            assert (await bench.run("bpy.ops.mesh.primitive_cube_add(location=(random.random(), 0, 0))")).success
        failed = await bench.run("bpy.ops.mesh.primitive_cube_add(location=(9, 9, 9)); raise ValueError('no')")
        assert not failed.success, "a failed part is undone: the scene is rebuilt from the recorded program"
        live = sorted((o.name, o.location) for o in (await bench.info()).objects)
        program = bench.code
        await bench.start_over()
        assert (await bench.run(program)).success
        replayed = sorted((o.name, o.location) for o in (await bench.info()).objects)
    assert len(live) == 2 and live[0][1] == live[1][1] and replayed == live

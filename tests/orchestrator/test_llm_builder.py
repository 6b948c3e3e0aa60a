"""The llm builder through the real model-role router against a real OpenAI-compatible server on 127.0.0.1."""

import json
from pathlib import Path

import pytest

from harness.model_config import ModelsConfig
from harness.model_roles import ModelRoles
from harness.report import ErrorClass, ExceptionInfo, ExecutionReport
from orchestrator.builders.interface import BuildContext
from orchestrator.builders.llm import LLMBuilder, extract_code
from orchestrator.coordinator import make_strategy
from orchestrator.errors import BuilderUnavailable
from orchestrator.memory import AttemptMemory
from orchestrator.state import RunConfig
from orchestrator.task import inline_task
from tests.fakes.openai_server import FakeOpenAIServer
from tests.orchestrator.conftest import PNG
import base64

REPLY = "I will add a cube.\n```python\nimport bpy\nsize = 1.0  # param 0.5..2\nbpy.ops.mesh.primitive_cube_add(size=size)\n```\n"


@pytest.fixture
def fake():
    with FakeOpenAIServer() as server:
        yield server


def roles(fake, *models):
    return ModelRoles(ModelsConfig.from_table({"builder": [f"openai/{m}" for m in models], "settings": {
        f"openai/{m}": {"api_base": fake.base_url, "api_key": "sk-test"} for m in models}}, env={}))


def context(tmp_path):
    task = inline_task("a cube", {"front": base64.b64encode(PNG).decode()}, staging_dir=tmp_path)
    return BuildContext(task=task, config=RunConfig(builder="llm"), strategy=make_strategy(1, 0),
                        memory=AttemptMemory(), iteration=0)


def test_code_is_taken_from_the_last_python_fence():
    plan, code = extract_code("plan\n```text\nno\n```\n```python\na = 1\n```\n```python\nb = 2\n```")
    assert code == "b = 2\n" and plan == "plan"
    assert extract_code("x = 1") == ("", "x = 1\n")
    assert extract_code("just words, sorry")[1] == ""


async def test_propose_sends_task_strategy_and_references_and_returns_the_program(fake, tmp_path):
    fake.script("gen-a", REPLY)
    proposal = await LLMBuilder(roles(fake, "gen-a")).propose(context(tmp_path))
    assert "primitive_cube_add" in proposal.code and proposal.params == {"size": [1.0]}
    assert proposal.calls[0].model == "openai/gen-a" and proposal.raw == REPLY
    sent = fake.requests_for("gen-a")[0]
    assert "geometry" in sent.body["messages"][0]["content"]  # attempt 1's strategy variant
    assert len(sent.image_urls()) == 1


async def test_fix_shows_the_classified_error_and_the_fallback_model_is_logged(fake, tmp_path):
    fake.script("gen-a", 503)
    fake.script("gen-b", REPLY)
    report = ExecutionReport(success=False, error_class=ErrorClass.RUNTIME,
                             exception=ExceptionInfo(type="NameError", message="name 'bpyy' is not defined", line=2))
    proposal = await LLMBuilder(roles(fake, "gen-a", "gen-b")).fix(context(tmp_path), "bpyy.ops\n", report, 1)
    assert proposal.calls[0].model == "openai/gen-b" and proposal.calls[0].fallbacks_taken == 1
    prompt = fake.requests_for("gen-b")[0].body["messages"][-1]["content"]
    assert "RUNTIME at line 2: NameError" in prompt and "bpyy.ops" in prompt and "SMALLEST" in prompt


async def test_every_model_failing_stops_the_attempt_with_the_call_log(fake, tmp_path):
    fake.script("gen-a", 500)
    with pytest.raises(BuilderUnavailable) as err:
        await LLMBuilder(roles(fake, "gen-a")).propose(context(tmp_path))
    assert err.value.log is not None and err.value.log.model is None


async def test_a_fixer_may_answer_with_a_unified_diff(fake, tmp_path):
    broken = "import bpy\nbpyy.ops.mesh.primitive_cube_add()\n"
    reply = "One letter.\n```diff\n@@ -2,1 +2,1 @@\n-bpyy.ops.mesh.primitive_cube_add()\n+bpy.ops.mesh.primitive_cube_add()\n```"
    fake.script("gen-a", reply, "```diff\n@@ -1,1 +1,1 @@\n-import numpy\n+import bpy\n```")
    report = ExecutionReport(success=False, error_class=ErrorClass.RUNTIME,
                             exception=ExceptionInfo(type="NameError", message="name 'bpyy' is not defined", line=2))
    builder = LLMBuilder(roles(fake, "gen-a"))
    fixed = await builder.fix(context(tmp_path), broken, report, 1)
    assert fixed.code == "import bpy\nbpy.ops.mesh.primitive_cube_add()\n" and fixed.raw == reply and fixed.plan == "One letter."
    stale = await builder.fix(context(tmp_path), broken, report, 2)
    assert stale.code.startswith("raise RuntimeError(") and "expected line 1" in stale.code


async def test_a_builder_model_is_shown_the_plans_and_told_their_scale(fake, tmp_path):
    hull = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hull"
    task = inline_task("a hull", None, staging_dir=tmp_path, allowed_roots=[hull],
                       blueprint={"span_m": 30.0, "side": str(hull / "plans" / "side.png")})
    fake.script("gen-a", REPLY)
    await LLMBuilder(roles(fake, "gen-a")).propose(BuildContext(
        task=task, config=RunConfig(builder="llm"), strategy=make_strategy(1, 0), memory=AttemptMemory(), iteration=0))
    sent = fake.requests_for("gen-a")[0]
    text = json.dumps(sent.body["messages"])
    assert len(sent.image_urls()) == 1 and "Plan, side view:" in text and "width covers 30 m" in text

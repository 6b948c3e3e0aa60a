"""GLM-4.5V (seed 001 A.2) through its preset: Z.AI's endpoint and key variables, the thinking switch, a reply whose
thinking comes apart (reasoning_content), and prompts fitted to its 64K context. litellm talks to the local
OpenAI-compatible server over real HTTP, as it would to api.z.ai."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from harness.context_budget import count_tokens
from harness.model_config import ModelsConfig
from harness.model_roles import ModelCallError, ModelRoles
from harness.report import ExecutionReport
from orchestrator.builders.interface import BuildContext
from orchestrator.builders.llm import LLMBuilder
from orchestrator.coordinator import make_strategy
from orchestrator.memory import AttemptMemory, ExecutionRecord, IterationStep
from orchestrator.state import RunConfig
from orchestrator.task import inline_task
from servers.viewport_vision.images import ImageLoader
from servers.viewport_vision.server import VisionCore
from tests.fakes.openai_server import FakeOpenAIServer, Reply, openai_server  # noqa: F401  (fixture)
from tests.orchestrator.conftest import PNG

GLM = "zai/glm-4.5v"
REF = Path(__file__).resolve().parents[1] / "orchestrator" / "data" / "cube" / "ref" / "front.png"
VERDICT = {"overall_score": 0.6, "is_complete": False, "issues": ["too small"], "suggestions": ["scale up"],
           "positive_aspects": ["grey"], "scores": {"composition": 0.6, "lighting": 0.7, "materials": 0.6, "goal_match": 0.5}}


@pytest.fixture
def zai(openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAIServer:
    """Z.AI's endpoint and key as a user sets them: ZAI_API_BASE and ZAI_API_KEY."""
    monkeypatch.setenv("ZAI_API_BASE", openai_server.base_url)
    monkeypatch.setenv("ZAI_API_KEY", "zai-test-key")
    return openai_server


def test_the_preset_gives_glm_its_context_vision_and_thinking_and_a_user_table_overrides_it_key_by_key():
    bare = ModelsConfig.from_table({"verifier": [GLM]}, env={}).settings_for(GLM)
    assert (bare.context_tokens, bare.vision, bare.thinking) == (65_536, True, True)
    mine = ModelsConfig.from_table({"verifier": [GLM], "settings": {GLM: {"thinking": False}}}, env={}).settings_for(GLM)
    assert (mine.context_tokens, mine.thinking) == (65_536, False)
    assert mine.litellm_params(GLM)["extra_body"] == {"thinking": {"type": "disabled"}}


async def test_glm_judges_renders_with_thinking_on_and_its_reasoning_is_kept_apart_from_the_verdict(zai, tmp_path):
    boxed = f"<|begin_of_box|>{json.dumps(VERDICT)}<|end_of_box|>"  # GLM-4.5V boxes its final answer
    zai.script("glm-4.5v", Reply(text=boxed, reasoning="The cube covers a fifth of the frame; the reference a third."))
    core = VisionCore(ImageLoader([REF.parent]), ModelRoles(ModelsConfig.from_table({"verifier": [GLM]}, env={})))
    verdict = await core.critique({"front": str(REF)}, "a grey cube", {"front": str(REF)})
    assert verdict.overall_score == 0.6 and verdict.issues == ["too small"]
    assert verdict.calls[0].model == GLM and verdict.calls[0].reasoning.startswith("The cube covers a fifth")
    sent = zai.requests_for("glm-4.5v")[0]
    assert sent.headers["authorization"] == "Bearer zai-test-key"
    assert sent.body["thinking"] == {"type": "enabled"} and len(sent.image_urls()) == 2
    assert 0 < verdict.calls[0].prompt_tokens_counted < 65_536


def _long_memory(steps: int) -> AttemptMemory:
    """An attempt deep into its budget: every iteration a long program, and a verbose summarizer's summaries."""
    code = "import bpy\n" + "".join(f"bpy.ops.mesh.primitive_cube_add(size={i / 100:.2f}, location=({i}, 0, 0))  # part {i}\n"
                                    for i in range(300))
    memory = AttemptMemory(window=3)
    for i in range(steps):
        memory.add(IterationStep(index=i, builder="llm", plan=f"Plan {i}: " + "move the parts " * 30, code=code,
                                 executions=[ExecutionRecord(code=code, report=ExecutionReport(success=True))],
                                 renders={"front": str(REF)}, score=0.5 + i / 1000))
        memory.summaries[i] = f"Iteration {i} summary: " + "the cubes were moved left and scaled by a tenth; " * 150
    return memory


async def test_a_builder_prompt_for_glm_is_fitted_to_its_context_older_iterations_summarised_then_dropped(zai, tmp_path):
    task = inline_task("a row of grey cubes", {"front": base64.b64encode(PNG).decode()}, staging_dir=tmp_path)
    memory = _long_memory(40)
    ctx = BuildContext(task=task, config=RunConfig(builder="llm"), strategy=make_strategy(0, 0), memory=memory,
                       iteration=40)
    unfitted = [{"role": "system", "content": "x"}] + memory.to_messages()
    assert count_tokens(GLM, unfitted) > 65_536, "the whole history would not fit: the test must make the builder cut"
    zai.script("glm-4.5v", "```python\nimport bpy\n```")
    await LLMBuilder(ModelRoles(ModelsConfig.from_table({"builder": [GLM]}, env={}))).propose(ctx)
    sent = zai.requests_for("glm-4.5v")[0].body["messages"]
    assert count_tokens(GLM, sent) <= 65_536 - 8192, "room is left for the reply (the preset's max_tokens)"
    text = json.dumps(sent)
    assert "Result of iteration 39" in text and "Result of iteration 38" not in text, "only the newest stays in full"
    assert "left out to fit the model's context" in text and "Iteration 0 summary" not in text, "the oldest went first"
    assert "Iteration 38 summary" in text


async def test_a_prompt_over_every_models_context_is_never_sent(zai):
    roles = ModelRoles(ModelsConfig.from_table({"verifier": [GLM], "settings": {GLM: {"context_tokens": 12_000}}}, env={}))
    with pytest.raises(ModelCallError) as e:
        await roles.complete("verifier", [{"role": "user", "content": "describe the cube " * 2000}])
    assert "tokens not sent: over the 3808" in str(e.value.log.errors) and not zai.requests

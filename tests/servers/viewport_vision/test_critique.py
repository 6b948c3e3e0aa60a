"""The VLM critique over real HTTP: litellm → a local OpenAI-compatible server with scripted replies."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastmcp import Client

from harness.errors import PromptError
from harness.model_config import ModelsConfig
from servers.viewport_vision.critique import parse_reply, render_prompt, ReplyParseError
from servers.viewport_vision.server import create_server
from tests.fakes.openai_server import FakeOpenAIServer, Reply, openai_server  # noqa: F401  (fixture)

GOOD = {
    "overall_score": 0.72,
    "is_complete": False,
    "scores": {"composition": 0.8, "lighting": 0.7, "materials": 0.6, "goal_match": 0.75},
    "issues": ["the handle is missing"],
    "suggestions": ["add a torus handle of radius 0.3 on the +x side"],
    "positive_aspects": ["the body proportions match"],
}


def _config(server: FakeOpenAIServer, *models: str, schema: bool = True) -> ModelsConfig:
    settings = {m: {"api_base": server.base_url, "api_key": "k", "response_schema": schema} for m in models}
    return ModelsConfig.from_table({"verifier": list(models), "settings": settings, "router": {"num_retries": 0}}, env={})


@pytest.fixture
def pngs(tmp_path: Path) -> dict[str, Path]:
    """Four distinct renders and two references on disk."""
    out = {}
    for i, name in enumerate(["front", "side", "top", "iso", "ref_front", "ref_iso"]):
        img = np.full((64, 64, 3), 50, np.uint8)
        cv2.circle(img, (20 + 4 * i, 32), 10 + i, (200, 40 + 30 * i, 40), -1)
        out[name] = tmp_path / f"{name}.png"
        cv2.imwrite(str(out[name]), img)
    return out


async def _critique(server: FakeOpenAIServer, pngs: dict[str, Path], *models: str, raise_on_error: bool = True, **extra):
    mcp = create_server([pngs["front"].parent], _config(server, *models, **extra))
    args = {"images": {v: str(pngs[v]) for v in ("front", "side", "top", "iso")}, "task": "A red mug with a handle"}
    async with Client(mcp) as client:
        return await client.call_tool("critique", args, raise_on_error=raise_on_error)


async def test_valid_json_is_parsed_and_the_call_is_logged(openai_server: FakeOpenAIServer, pngs) -> None:
    openai_server.script("vlm-a", json.dumps(GOOD))
    data = (await _critique(openai_server, pngs, "openai/vlm-a")).structured_content
    assert {k: data[k] for k in GOOD} == GOOD
    (call,) = data["calls"]
    assert call["model"] == "openai/vlm-a" and call["fallbacks_taken"] == 0
    assert call["tokens_in"] > 0 and call["tokens_out"] > 0 and call["latency_ms"] > 0
    assert call["structured_output"] is True
    body = openai_server.requests[0].body
    assert body["response_format"]["json_schema"]["schema"]["required"][0] == "overall_score"


async def test_every_render_and_reference_arrives_intact_and_labelled(openai_server: FakeOpenAIServer, pngs) -> None:
    openai_server.script("vlm-a", json.dumps(GOOD))
    mcp = create_server([pngs["front"].parent], _config(openai_server, "openai/vlm-a"))
    renders = {v: str(pngs[v]) for v in ("front", "side", "top", "iso")}
    reference = {"front": str(pngs["ref_front"]), "iso": str(pngs["ref_iso"])}
    async with Client(mcp) as client:
        await client.call_tool("critique", {"images": renders, "task": "mug", "reference": reference,
                                            "rubric": "only the silhouette matters"})
    (request,) = openai_server.requests
    urls = request.image_urls()
    assert len(urls) == 6
    sent = [pngs[n].read_bytes() for n in ("front", "side", "top", "iso", "ref_front", "ref_iso")]
    for url, original in zip(urls, sent):
        assert url.startswith("data:image/png;base64,")
        assert base64.b64decode(url.split(",", 1)[1]) == original
    labels = [p["text"] for p in request.body["messages"][1]["content"] if p["type"] == "text"]
    assert "Render, view top:" in labels and "Reference, view iso:" in labels
    assert "mug" in labels[0] and "only the silhouette matters" in labels[0]


async def test_json_in_fences_with_prose_is_repaired_without_a_retry(openai_server: FakeOpenAIServer, pngs) -> None:
    openai_server.script("vlm-a", "Here is my verdict:\n```json\n" + json.dumps(GOOD) + "\n```\nHope it helps.")
    data = (await _critique(openai_server, pngs, "openai/vlm-a")).structured_content
    assert data["overall_score"] == 0.72 and len(openai_server.requests) == 1


async def test_malformed_json_is_retried_once_with_the_parse_error(openai_server: FakeOpenAIServer, pngs) -> None:
    openai_server.script("vlm-a", '{"overall_score": 0.5, "is_complete": false', json.dumps(GOOD))
    data = (await _critique(openai_server, pngs, "openai/vlm-a")).structured_content
    assert data["overall_score"] == 0.72
    assert len(openai_server.requests) == 2
    retry_messages = openai_server.requests[1].body["messages"]
    assert retry_messages[-2]["role"] == "assistant"
    assert "could not be used" in retry_messages[-1]["content"] and "JSON" in retry_messages[-1]["content"]
    assert [c["attempts"] for c in data["calls"]] == [1, 2]
    assert data["calls"][0]["errors"] and len(data["raw_replies"]) == 2


async def test_a_score_out_of_range_is_retried_not_clamped(openai_server: FakeOpenAIServer, pngs) -> None:
    openai_server.script("vlm-a", json.dumps({**GOOD, "overall_score": 7.5}), json.dumps(GOOD))
    data = (await _critique(openai_server, pngs, "openai/vlm-a")).structured_content
    assert data["overall_score"] == 0.72
    assert "overall_score" in openai_server.requests[1].body["messages"][-1]["content"]


async def test_unusable_json_twice_fails_clearly_and_never_scores(openai_server: FakeOpenAIServer, pngs) -> None:
    openai_server.script("vlm-a", "I think it looks nice.", '{"overall_score": 0.9}')
    result = await _critique(openai_server, pngs, "openai/vlm-a", raise_on_error=False)
    assert result.is_error and result.structured_content is None
    text = result.content[0].text
    assert text.startswith("[VERIFIER_BAD_OUTPUT]") and "is_complete" in text
    assert len(openai_server.requests) == 2


async def test_first_model_failing_falls_back_to_the_second_and_reports_it(openai_server: FakeOpenAIServer, pngs) -> None:
    openai_server.script("vlm-a", 500)
    openai_server.script("vlm-b", json.dumps(GOOD))
    data = (await _critique(openai_server, pngs, "openai/vlm-a", "openai/vlm-b")).structured_content
    (call,) = data["calls"]
    assert (call["model"], call["fallbacks_taken"], call["chain"]) == ("openai/vlm-b", 1, ["openai/vlm-a", "openai/vlm-b"])
    assert [(r.model, r.status) for r in openai_server.requests] == [("vlm-a", 500), ("vlm-b", 200)]
    assert len(openai_server.requests[1].image_urls()) == 4


async def test_every_model_failing_is_verifier_unavailable(openai_server: FakeOpenAIServer, pngs) -> None:
    openai_server.script("vlm-a", 503)
    openai_server.script("vlm-b", 500)
    result = await _critique(openai_server, pngs, "openai/vlm-a", "openai/vlm-b", raise_on_error=False)
    assert result.is_error and result.content[0].text.startswith("[VERIFIER_UNAVAILABLE]")


async def test_schema_is_asked_for_in_the_prompt_when_the_model_has_no_json_mode(openai_server: FakeOpenAIServer, pngs) -> None:
    openai_server.script("vlm-a", json.dumps(GOOD))
    data = (await _critique(openai_server, pngs, "openai/vlm-a", schema=False)).structured_content
    body = openai_server.requests[0].body
    assert "response_format" not in body and '"positive_aspects"' in body["messages"][0]["content"]
    assert data["calls"][0]["structured_output"] is False


async def test_without_a_verifier_role_critique_says_how_to_configure_one(pngs) -> None:
    async with Client(create_server([pngs["front"].parent])) as client:
        result = await client.call_tool("critique", {"images": {"front": str(pngs["front"])}, "task": "x"}, raise_on_error=False)
    assert result.content[0].text.startswith("[NO_VERIFIER]") and "COLOSSUS_MODELS_VERIFIER" in result.content[0].text


def test_trailing_commas_are_repaired() -> None:
    text = json.dumps(GOOD, indent=1).replace('"the body proportions match"', '"the body proportions match",')
    assert parse_reply(text).overall_score == 0.72


def test_extra_keys_from_the_model_are_dropped() -> None:
    assert parse_reply(json.dumps({**GOOD, "reasoning": "long notes"})).overall_score == 0.72


def test_partial_json_is_not_completed_with_defaults() -> None:
    with pytest.raises(ReplyParseError, match="suggestions"):
        parse_reply(json.dumps({k: v for k, v in GOOD.items() if k != "suggestions"}))


def test_prompts_render_strictly() -> None:
    with pytest.raises(PromptError, match="missing variables"):
        render_prompt("critique_retry")
    with pytest.raises(PromptError, match="unknown variables"):
        render_prompt("critique_retry", error="x", eror="typo")


async def test_investigate_offers_the_look_tool_only_to_a_model_that_can_call_tools(openai_server: FakeOpenAIServer, pngs) -> None:
    """A model without function calling judges at once; one with it may ask, and a malformed request is not a look."""
    args = {"images": {"front": str(pngs["front"])}, "task": "A red mug", "max_looks": 2}
    plain = ModelsConfig.from_table({"verifier": ["openai/vlm-a"], "router": {"num_retries": 0}, "settings": {
        "openai/vlm-a": {"api_base": openai_server.base_url, "api_key": "k", "function_calling": False}}}, env={})
    openai_server.script("vlm-a", json.dumps(GOOD))
    async with Client(create_server([pngs["front"].parent], plain)) as client:
        turn = (await client.call_tool("investigate", args)).structured_content
    assert turn["verdict"]["overall_score"] == GOOD["overall_score"] and "tools" not in openai_server.requests[-1].body

    tools = plain.model_copy(update={"settings": {"openai/vlm-a": plain.settings["openai/vlm-a"].model_copy(
        update={"function_calling": True})}})
    bad = {"id": "c1", "type": "function", "function": {"name": "look", "arguments": '{"kind": "xray"}'}}
    good = {"id": "c2", "type": "function", "function": {"name": "look", "arguments": '{"kind": "orbit", "azimuth": 45}'}}
    openai_server.script("vlm-a", Reply(tool_calls=[bad, good]), Reply(tool_calls=[bad]), json.dumps(GOOD))
    async with Client(create_server([pngs["front"].parent], tools)) as client:
        asked = (await client.call_tool("investigate", args)).structured_content
        assert asked["verdict"] is None and [(r["kind"], r["azimuth"]) for r in asked["looks"]] == [("orbit", 45.0)]
        assert "unusable arguments" in asked["calls"][0]["errors"][0]
        # only bad requests: no look, the reply is judged as a verdict, retried once with the parse error
        judged = (await client.call_tool("investigate", args)).structured_content
    assert judged["verdict"]["overall_score"] == GOOD["overall_score"] and judged["looks"] == []

"""verify with a verifier model configured: the VLM critique comes back through the gateway."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from fastmcp import Client

from gateway.config import load_gateway_config
from gateway.server import create_gateway
from tests.fakes.openai_server import FakeOpenAIServer, openai_server  # noqa: F401  (fixture)

VERDICT = {
    "overall_score": 0.72,
    "is_complete": False,
    "scores": {"composition": 0.8, "lighting": 0.7, "materials": 0.6, "goal_match": 0.75},
    "issues": ["the disc is too small"],
    "suggestions": ["scale the disc up by 1.5"],
    "positive_aspects": ["the colour is right"],
}


async def test_verify_adds_the_vlm_critique_when_a_verifier_model_is_configured(
        openai_server: FakeOpenAIServer, tmp_path: Path) -> None:  # noqa: F811
    image = np.full((64, 64, 3), 40, np.uint8)
    cv2.circle(image, (32, 32), 12, (30, 30, 200), -1)
    render = tmp_path / "images" / "front.png"
    render.parent.mkdir()
    cv2.imwrite(str(render), image)
    config_file = tmp_path / "colossus.toml"
    config_file.write_text(
        f'[pool]\nworkers = 0\nworkdir = "{tmp_path / "pool"}"\n'
        f'[vision]\nallowed_roots = ["{render.parent}"]\n'
        '[models]\nverifier = ["openai/vlm-a"]\n'
        f'[models.settings."openai/vlm-a"]\napi_base = "{openai_server.base_url}"\napi_key = "k"\n'
    )
    openai_server.script("vlm-a", json.dumps(VERDICT))
    app = create_gateway(load_gateway_config(config_file))
    async with Client(app) as client:
        verdict = (await client.call_tool("verify", {"images": {"front": str(render)}, "task": "a red disc"})).structured_content
    critique = verdict["critique"]
    assert critique["overall_score"] == 0.72 and critique["suggestions"] == VERDICT["suggestions"]
    assert critique["calls"][0]["model"] == "openai/vlm-a"
    assert verdict["score"] == 0.72 and verdict["notes"] == []
    assert "suggestion: scale the disc up by 1.5" in verdict["feedback"]
    assert len(openai_server.requests_for("vlm-a")) == 1 and openai_server.requests[0].image_urls()

"""Settings shipped for models that need more than a litellm string (seed 001 A.2).

A preset is the `[models.settings."<model>"]` table Colossus assumes for that model; the user's own
table for it is laid over the preset key by key, so any value can be changed.

`zai/glm-4.5v` (Z.AI's GLM-4.5V, litellm provider `zai`): the endpoint comes from `ZAI_API_BASE`
(litellm's default https://api.z.ai/api/paas/v4; the coding plan's is https://api.z.ai/api/coding/paas/v4),
the key from `ZAI_API_KEY`. Its context is 64K tokens, so prompts built for it are fitted to that
(harness.context_budget); it takes images, and `thinking` switches its deep-reasoning mode, which
answers with the reasoning apart from the reply (`reasoning_content`, kept in the call log).
"""

from __future__ import annotations

from typing import Any

__all__ = ["MODEL_PRESETS", "preset"]

MODEL_PRESETS: dict[str, dict[str, Any]] = {
    "zai/glm-4.5v": {"context_tokens": 65_536, "vision": True, "thinking": True, "max_tokens": 8192,
                     "timeout_s": 180.0},
}


def preset(model: str) -> dict[str, Any]:
    """The shipped settings of `model` (a copy), or none."""
    return dict(MODEL_PRESETS.get(model, {}))

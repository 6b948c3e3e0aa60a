"""What a tools/list entry costs a host's model, in tokens: one counter for the gateway's
enable_toolset listing and for bench/tools.py, so the two never disagree.

Counted with litellm's `token_counter` for gpt-4o over JSON as Python writes it by default. litellm
is imported on first use only (~3 s), with its local cost map so it never reaches the network.
"""

from __future__ import annotations

import json
import os
from typing import Any

__all__ = ["TOKENIZER_MODEL", "visible_part", "count_tokens"]

TOKENIZER_MODEL = "gpt-4o"


def visible_part(entry: dict[str, Any]) -> dict[str, Any]:
    """What a host's model reads of a tools/list entry (wire names): name, description, input schema."""
    return {k: entry[k] for k in ("name", "description", "inputSchema") if k in entry}


def count_tokens(value: Any) -> int:
    """Tokens of a value as JSON."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from litellm import token_counter

    return int(token_counter(model=TOKENIZER_MODEL, text=json.dumps(value)))

"""How many tokens a prompt may take for a role: the smallest context of its chain, minus the reply.

Why count rather than guess: a model such as GLM-4.5V (64K) answers a prompt over its context with
an error at best and silently cut input at worst. Builders fit their prompt to `budget(role)` by
summarising or dropping older iterations (orchestrator.context_fit); ModelRoles refuses to send a
prompt over a model's own limit at all. Tokens are counted by litellm's token_counter, images
included (by their size, as the providers bill them).
"""

from __future__ import annotations

from typing import Any

from harness.litellm_import import litellm
from harness.model_config import ModelsConfig

__all__ = ["budget", "count_tokens", "over_limit"]


def budget(config: ModelsConfig, role: str) -> int | None:
    """The most prompt tokens every remote model of the role's chain takes; None when none has a limit."""
    chain = config.remote_chain(role) if role in config.roles else []
    limits = [s.context_tokens - s.output_reserve() for m in chain
              if (s := config.settings_for(m)).context_tokens is not None]
    return max(0, min(limits)) if limits else None


def count_tokens(model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> int:
    """The prompt's tokens as litellm counts them for `model` (its tokenizer when known, else tiktoken's)."""
    return int(litellm().token_counter(model=model, messages=messages, tools=tools))


def over_limit(config: ModelsConfig, model: str, messages: list[dict[str, Any]],
               tools: list[dict[str, Any]] | None = None) -> tuple[int | None, str | None]:
    """(tokens counted, why the prompt may not be sent to `model`): (None, None) for a model without a limit."""
    settings = config.settings_for(model)
    if settings.context_tokens is None:
        return None, None
    tokens = count_tokens(model, messages, tools)
    room = settings.context_tokens - settings.output_reserve()
    if tokens > room:
        return tokens, (f"prompt of {tokens} tokens not sent: over the {room} its context of {settings.context_tokens} "
                        f"leaves after {settings.output_reserve()} for the reply")
    return tokens, None

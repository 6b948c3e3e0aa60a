"""A builder's prompt fitted to its model's context: older iterations summarised, then dropped, never over.

The prompt is the task (head), the attempt's history, and this turn's instruction (tail). When the
chain has a context limit (harness.context_budget; e.g. GLM-4.5V's 64K), the history shrinks step
by step until the count fits: fewer iterations in full (the rest as summaries), then fewer
summaries (the oldest dropped first), then the newest renders left out, then no history. A task
that does not fit even then is refused: sending it would fail or be cut silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from orchestrator.errors import BuilderUnavailable
from orchestrator.memory import AttemptMemory

__all__ = ["fit_prompt"]

Message = dict[str, Any]


def fit_prompt(models: Any, role: str, head: list[Message], memory: AttemptMemory, tail: list[Message]) -> list[Message]:
    """head + the most history that fits the role's context + tail (the whole history when no limit is known).

    `models` counts tokens (harness.model_roles.ModelRoles: prompt_budget, count_tokens); a completer
    that cannot is given the whole history."""
    limit = models.prompt_budget(role) if hasattr(models, "prompt_budget") else None
    if limit is None:
        return head + memory.to_messages() + tail
    for history in _shrinking(memory):
        messages = head + history + tail
        tokens = models.count_tokens(role, messages)
        if tokens <= limit:
            return messages
    raise BuilderUnavailable(f"{role}: the task alone takes {tokens} tokens, over the {limit} its models' context "
                             "leaves for a prompt; shorten the description or give fewer reference views")


def _shrinking(memory: AttemptMemory) -> Iterator[list[Message]]:
    older = max(0, len(memory.history()) - 1)
    for window in range(memory.window, 0, -1):
        yield memory.to_messages(window=window)
    kept = older
    while kept > 0:
        kept //= 2
        yield memory.to_messages(window=1, summaries=kept)
    yield memory.to_messages(window=1, summaries=0, images=False)
    yield []

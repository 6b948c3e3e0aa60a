"""What a run has spent on models, and whether it may spend more (`[budget] max_cost_usd`, `max_tokens`).

Spend is summed from the CallLogs the steps already keep, so the checkpoint is its record and a
resumed run counts what it spent before. A call whose price litellm does not know (no cost-map
entry and no `input_cost_per_token` in the model's settings) counts its tokens and makes the cost
*unknown*, never zero: under a cost cap, an unknown cost stops the run, since the cap can no
longer be shown to hold. The cap is checked before each iteration, so parallel attempts may
overshoot it by the iterations in flight when it is reached.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from harness.vision_types import CallLog

__all__ = ["Spend", "spend_of", "budget_exceeded"]


class Spend(BaseModel):
    tokens: int = Field(0, description="tokens in + out over every model call")
    cost_usd: float = Field(0.0, description="cost of the calls whose price is known")
    unpriced_calls: int = Field(0, description="calls whose price is unknown: the cost is then unknown, not free")
    calls: int = 0

    @property
    def cost_known(self) -> bool:
        return self.unpriced_calls == 0

    def describe(self) -> str:
        """`12,345 tokens, $0.0123` or `…, cost unknown (≥ $0.0100; 3 calls unpriced)`."""
        if self.cost_known:
            return f"{self.tokens:,} tokens, ${self.cost_usd:.4f}"
        floor = f"≥ ${self.cost_usd:.4f}; " if self.cost_usd else ""
        return f"{self.tokens:,} tokens, cost unknown ({floor}{self.unpriced_calls} call(s) unpriced)"


def spend_of(calls: Iterable[CallLog]) -> Spend:
    total = Spend()
    for c in calls:
        total.calls += 1
        total.tokens += (c.tokens_in or 0) + (c.tokens_out or 0)
        if c.cost_usd is not None:
            total.cost_usd += c.cost_usd
        elif c.model is not None:  # a call every model failed costs nothing billable
            total.unpriced_calls += 1
    return total


def budget_exceeded(spent: Spend, max_cost_usd: float | None, max_tokens: int | None) -> str | None:
    """Why the run may not start another iteration, or None."""
    if max_tokens is not None and spent.tokens >= max_tokens:
        return f"token budget reached: {spent.tokens:,} of {max_tokens:,} tokens"
    if max_cost_usd is not None and not spent.cost_known:
        return (f"cost budget ${max_cost_usd:.4f} cannot be kept: {spent.unpriced_calls} call(s) of unknown price "
                "(set input_cost_per_token / output_cost_per_token in the model's [models.settings], or cap max_tokens)")
    if max_cost_usd is not None and spent.cost_usd >= max_cost_usd:
        return f"cost budget reached: ${spent.cost_usd:.4f} of ${max_cost_usd:.4f}"
    return None

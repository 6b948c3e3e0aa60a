"""Which models a run actually used: read from its steps' call logs (the chain is what it was given)."""

from __future__ import annotations

from orchestrator.state import AttemptState

__all__ = ["models_used"]


def models_used(states: dict[int, AttemptState]) -> dict[str, list[str]]:
    """Role → the models that answered, in the order they first did (a fallback shows as a second entry, an
    offline backend that took over as its name)."""
    used: dict[str, list[str]] = {}
    for state in states.values():
        for step in state.memory.steps:
            served = [(c.role, c.model) for c in step.calls] + [(d.role, d.backend) for d in step.degradations]
            for role, model in served:
                if model and model not in used.setdefault(role, []):
                    used[role].append(model)
    return used

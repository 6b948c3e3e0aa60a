"""Models a run names for itself: checked against the configured providers before the run starts.

A run may replace any role's chain (`start_run(models={"builder": [...]})`, `[models]` in task.toml,
`colossus run --model ROLE=MODEL`); roles it does not name keep colossus.toml's chain. Why check
up front: a typo in a model name, a provider whose key is not set, or a text-only model asked to
judge renders would otherwise surface as a failed attempt after workers have started and money
was spent. A model passes when it is

- an offline backend that fits its role (`parametric` builds, `metrics` verifies), or
- configured in colossus.toml (a `[models.settings."…"]` table or an entry of any chain), or
- a model of a provider litellm knows whose key is in the environment (litellm's validate_environment);

and every model named as `verifier` must take images (its settings' `vision`, else litellm's
supports_vision). litellm is imported only when a model is not configured locally.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from harness.litellm_import import litellm
from harness.model_config import OFFLINE_BACKENDS, ModelConfigError, ModelsConfig

__all__ = ["RUN_ROLES", "ModelChoiceError", "check_models", "with_models", "parse_model_args"]

RUN_ROLES = ("builder", "verifier", "summarizer", "planner")
_OFFLINE_ROLE = {"parametric": "builder", "metrics": "verifier"}


class ModelChoiceError(ModelConfigError):
    """A run's `models` names an unknown role, an unusable model, or a verifier that cannot see."""


def check_models(config: ModelsConfig, chosen: Mapping[str, Any]) -> dict[str, list[str]]:
    """The run's chains, validated: role → models in order. Raises ModelChoiceError naming the first problem."""
    out: dict[str, list[str]] = {}
    for role, value in chosen.items():
        if role not in RUN_ROLES:
            raise ModelChoiceError(f"models: unknown role {role!r}; a run may name {', '.join(RUN_ROLES)}")
        chain = [value] if isinstance(value, str) else value
        if not isinstance(chain, list) or not chain or not all(isinstance(m, str) and m.strip() for m in chain):
            raise ModelChoiceError(f"models.{role}: expected a non-empty list of model strings, got {value!r}")
        chain = [m.strip() for m in chain]
        for model in chain:
            problem = _offline_problem(role, model) if model in OFFLINE_BACKENDS else _remote_problem(config, model)
            if problem is None and role == "verifier" and model not in OFFLINE_BACKENDS and not _sees(config, model):
                problem = ("cannot take images (litellm's model map says it has no vision), so it cannot judge renders; "
                           f"name a vision model, or set `vision = true` in [models.settings.\"{model}\"] if it does")
            if problem is not None:
                raise ModelChoiceError(f"models.{role}: {model!r} {problem}")
        out[role] = chain
    return out


def with_models(config: ModelsConfig, chosen: Mapping[str, list[str]]) -> ModelsConfig:
    """colossus.toml's models with the run's chains in place of the roles it names."""
    if not chosen:
        return config
    return config.model_copy(update={"roles": {**config.roles, **{r: list(c) for r, c in chosen.items()}}})


def parse_model_args(values: list[str] | None) -> dict[str, list[str]]:
    """`--model ROLE=MODEL`, repeatable: a role named twice gets a chain in the order given."""
    chosen: dict[str, list[str]] = {}
    for value in values or ():
        role, sep, model = value.partition("=")
        if not sep or not role.strip() or not model.strip():
            raise ModelChoiceError(f"--model {value!r}: expected ROLE=MODEL, e.g. builder=openai/gpt-5")
        chosen.setdefault(role.strip(), []).append(model.strip())
    return chosen


def _offline_problem(role: str, model: str) -> str | None:
    fits = _OFFLINE_ROLE[model]
    return None if role == fits else f"is the offline {fits}; it cannot play {role}"


def _remote_problem(config: ModelsConfig, model: str) -> str | None:
    settings = config.settings.get(model)
    if settings is not None:
        if settings.api_key_env and not os.environ.get(settings.api_key_env):
            return f"needs its key in ${settings.api_key_env} (api_key_env in colossus.toml), which is not set"
        return None
    if any(model in chain for chain in config.roles.values()):
        return None
    module = litellm()
    try:
        module.get_llm_provider(model)
    except Exception:  # litellm's BadRequestError: no provider prefix it knows
        return ("is not configured: no [models.settings] table in colossus.toml, no chain lists it, and litellm "
                "knows no provider for it (write provider/model, e.g. openai/gpt-5)")
    env = module.validate_environment(model=model)
    if not env.get("keys_in_environment"):
        missing = ", ".join(env.get("missing_keys") or []) or "its provider's key"
        return (f"is not configured in colossus.toml and {missing} is not set; set it, or give the model "
                f"[models.settings.\"{model}\"] with api_base / api_key_env")
    return None


def _sees(config: ModelsConfig, model: str) -> bool:
    declared = config.settings_for(model).vision
    if declared is not None:
        return declared
    try:
        return bool(litellm().supports_vision(model=model))
    except Exception:  # unknown to litellm's model map
        return False

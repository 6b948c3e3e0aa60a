"""Which models play which role: the `[models]` table of colossus.toml plus env overrides.

    [models]
    builder  = ["anthropic/claude-x", "openai/gpt-x", "parametric"]
    verifier = ["openai/vlm-a", "openai/vlm-b"]
    [models.settings."openai/vlm-a"]
    api_base    = "http://127.0.0.1:8000/v1"
    api_key_env = "VLM_A_KEY"          # the key is read from this env var, never stored
    response_schema = true             # it honours json_schema response_format (default: litellm's model map)
    function_calling = true            # it can call tools (default: litellm's model map)
    vision = true                      # it takes images (default: litellm's model map); a run's verifier must
    temperature = 0.0                  # anything else is passed to litellm as is
    timeout_s = 60                     # per request to this model
    [models.router]                    # litellm Router resilience (see RouterSettings)
    num_retries = 2                    # per model, exponential backoff; a 429's Retry-After is honoured
    cooldown_time_s = 30               # a model that failed allowed_fails times is skipped this long

`COLOSSUS_MODELS_<ROLE>="m1,m2"` replaces a role's chain. Names without a provider that name an
offline backend (`parametric`, `metrics`) stay in the chain for the coordinator but never reach
litellm.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.config_file import load_config
from harness.model_presets import preset

__all__ = ["OFFLINE_BACKENDS", "ModelSettings", "RouterSettings", "ModelsConfig", "ModelConfigError"]

OFFLINE_BACKENDS = frozenset({"parametric", "metrics"})
_ENV_PREFIX = "COLOSSUS_MODELS_"


class ModelConfigError(ValueError):
    """The [models] table (or an env override) is not usable; the message says where."""


class ModelSettings(BaseModel):
    """Per-model connection settings; unknown keys are litellm parameters (temperature, max_tokens, ...)."""

    model_config = ConfigDict(extra="allow")

    api_base: str | None = None
    api_key_env: str | None = Field(None, description="name of the env var holding the key")
    timeout_s: float = Field(120.0, gt=0, description="per request")
    response_schema: bool | None = Field(
        None, description="the model honours a json_schema response_format; None: ask litellm's model map"
    )
    function_calling: bool | None = Field(
        None, description="the model can call tools (the builder then acts through them); None: ask litellm's model map"
    )
    vision: bool | None = Field(None, description="the model takes images (a run's verifier must); None: ask litellm's model map")
    context_tokens: int | None = Field(None, gt=0, description="its context window: prompts are fitted to it, never sent over")
    thinking: bool | None = Field(None, description="switch the model's thinking mode on or off (GLM: "
                                                    "thinking.type enabled/disabled); None: the provider's default")

    def litellm_params(self, model: str) -> dict[str, Any]:
        """The deployment's litellm_params: the key is read from the env here, at router build time."""
        params: dict[str, Any] = {"model": model, "timeout": self.timeout_s, "max_retries": 0}
        if self.api_base:
            params["api_base"] = self.api_base
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise ModelConfigError(f"model {model!r}: env var {self.api_key_env} (api_key_env) is not set")
            params["api_key"] = key
        if self.thinking is not None:  # passed through in the request body as the provider spells it
            params["extra_body"] = {"thinking": {"type": "enabled" if self.thinking else "disabled"}}
        params.update(self.model_extra or {})  # response_schema, function_calling, vision are ours, never litellm's
        return params

    def output_reserve(self) -> int:
        """Tokens of the context kept free for the reply: its `max_tokens`, else 4096."""
        return int((self.model_extra or {}).get("max_tokens") or 4096)

    def priced(self) -> bool:
        """The user gave this model a price (litellm's `input_cost_per_token`/`output_cost_per_token`)."""
        return any(k in (self.model_extra or {}) for k in ("input_cost_per_token", "output_cost_per_token"))


class RouterSettings(BaseModel):
    """How litellm's Router rides out provider failures; every field is one of its own settings.

    A failed request (429, 5xx, connection error, timeout) is retried on the same model up to
    `num_retries` times, with litellm's exponential backoff (0.5 s doubling, jittered) or, when a
    429 carries `Retry-After` up to 60 s, exactly that wait. A model failing more than
    `allowed_fails` times in a minute cools down for `cooldown_time_s`: calls skip it at once.
    """

    model_config = ConfigDict(extra="forbid")

    num_retries: int = Field(2, ge=0, le=10, description="retries per model before the chain moves on")
    retry_after_s: int = Field(0, ge=0, le=60, description="least wait before a retry")
    allowed_fails: int = Field(3, ge=0, description="failures per minute before a model cools down")
    cooldown_time_s: float = Field(30.0, ge=0, description="how long a cooled-down model is skipped")

    def router_kwargs(self) -> dict[str, Any]:
        return {"num_retries": self.num_retries, "retry_after": self.retry_after_s,
                "allowed_fails": self.allowed_fails, "cooldown_time": self.cooldown_time_s}


class ModelsConfig(BaseModel):
    roles: dict[str, list[str]] = Field(default_factory=dict, description="role → fallback chain, in order")
    settings: dict[str, ModelSettings] = Field(default_factory=dict)
    router: RouterSettings = Field(default_factory=RouterSettings)

    @classmethod
    def from_table(cls, table: Mapping[str, Any] | None, env: Mapping[str, str] | None = None) -> "ModelsConfig":
        """Validate a raw `[models]` table and apply `COLOSSUS_MODELS_<ROLE>` overrides from `env`."""
        table = dict(table or {})
        env = os.environ if env is None else env
        raw_settings = table.pop("settings", {}) or {}
        raw_router = table.pop("router", {}) or {}
        roles: dict[str, list[str]] = {}
        for role, chain in table.items():
            roles[role] = _chain(chain, f"[models].{role}")
        for name, value in env.items():
            if name.startswith(_ENV_PREFIX) and len(name) > len(_ENV_PREFIX):
                role = name[len(_ENV_PREFIX):].lower()
                roles[role] = _chain([m.strip() for m in value.split(",") if m.strip()], f"env {name}")
        if not isinstance(raw_settings, Mapping):
            raise ModelConfigError("[models.settings] must be a table of model name → settings table")
        try:  # a shipped preset (harness.model_presets) under the user's table, key by key
            settings = {str(k): ModelSettings.model_validate({**preset(str(k)), **v} if isinstance(v, Mapping) else v)
                        for k, v in raw_settings.items()}
        except ValidationError as e:
            raise ModelConfigError(f"[models.settings]: {e}") from e
        try:
            router = RouterSettings.model_validate(raw_router)
        except ValidationError as e:
            raise ModelConfigError(f"[models.router]: {e}") from e
        return cls(roles=roles, settings=settings, router=router)

    @classmethod
    def load(cls, config_file: str | os.PathLike[str] | None = None) -> "ModelsConfig":
        """From the user's colossus.toml (see harness.config_file) and the process env."""
        return cls.from_table(load_config(config_file).get("models"))

    def chain(self, role: str) -> list[str]:
        """The role's whole chain, offline backends included; an unknown role is an error."""
        if role not in self.roles:
            configured = ", ".join(sorted(self.roles)) or "none"
            raise ModelConfigError(
                f"model role {role!r} is not configured (configured: {configured}); "
                f"add `{role} = [\"provider/model\", ...]` to [models] in colossus.toml "
                f"or set {_ENV_PREFIX}{role.upper()}"
            )
        return list(self.roles[role])

    def remote_chain(self, role: str) -> list[str]:
        """The models of the role's chain that litellm serves (offline backends left out)."""
        return [m for m in self.chain(role) if m not in OFFLINE_BACKENDS]

    def has_remote(self, role: str) -> bool:
        """The role is configured with a model litellm can call (not only offline backends)."""
        return role in self.roles and bool(self.remote_chain(role))

    def settings_for(self, model: str) -> ModelSettings:
        return self.settings.get(model) or ModelSettings.model_validate(preset(model))

    def offline_fallback(self, role: str) -> str | None:
        """The offline backend listed in the role's chain (it takes over when every remote model fails)."""
        return next((m for m in self.roles.get(role, []) if m in OFFLINE_BACKENDS), None)


def _chain(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(m, str) and m.strip() for m in value):
        raise ModelConfigError(f"{where}: expected a non-empty list of model strings, got {value!r}")
    return [m.strip() for m in value]

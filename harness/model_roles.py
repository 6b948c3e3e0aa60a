"""Model roles through litellm: one Router, a fallback chain per role, a CallLog per call.

Role-agnostic: the vision server's `verifier`, the coordinator's `builder` and `summarizer` all
call `ModelRoles.complete(role, messages)`. Each role's models become their own deployment
groups (`<role>::<model>`), so the same model may sit in two chains with different fallbacks.

Resilience is litellm's: the Router retries each model with exponential backoff honouring a
429's Retry-After, cools down a model that keeps failing, and times out each request
(harness.model_config.RouterSettings, ModelSettings.timeout_s). The walk along the chain is
ours, one Router call per model with `fallbacks=[]`, because litellm's own fallback path hands
back only the first and the last error: this way each failed model's real error lands in
CallLog.errors. The chains are still declared to the Router as fallbacks, since litellm never
cools down a model that has no fallback (it would be the only way to answer).

litellm costs ~3 s to import, so it is imported on the first call, with its local cost map.

    ModelRoleError
    ├── ModelConfigError   (harness.model_config: role missing, bad table, key env var unset)
    └── ModelCallError     every model of the chain failed; carries the CallLog
"""

from __future__ import annotations

import logging
import time
from typing import Any

from harness.context_budget import budget, count_tokens, over_limit
from harness.litellm_import import litellm as litellm_module
from harness.model_config import ModelConfigError, ModelsConfig
from harness.vision_types import CallLog

__all__ = ["ModelRoles", "ModelCallError", "ModelConfigError"]

_SEP = "::"


class ModelCallError(RuntimeError):
    """Every model of a role's chain failed (or none can be called)."""

    def __init__(self, message: str, log: CallLog) -> None:
        super().__init__(message)
        self.log = log


class ModelRoles:
    """Calls models by role; build once per process and share (the Router pools HTTP clients)."""

    def __init__(self, config: ModelsConfig) -> None:
        self.config = config
        self._router: Any = None

    def chain(self, role: str) -> list[str]:
        return self.config.chain(role)

    async def complete(
        self,
        role: str,
        messages: list[dict[str, Any]],
        response_format: dict[str, Any] | type | None = None,
        **params: Any,
    ) -> tuple[str, CallLog]:
        """Ask the role's first model, falling back along its chain; returns the text and the CallLog.

        `response_format` is sent only when every model of the chain honours it (one request
        shape serves the whole chain); callers validate the reply either way.
        """
        message, log = await self.respond(role, messages, response_format, **params)
        return message["content"], log

    async def respond(
        self,
        role: str,
        messages: list[dict[str, Any]],
        response_format: dict[str, Any] | type | None = None,
        **params: Any,
    ) -> tuple[dict[str, Any], CallLog]:
        """complete(), returning the whole assistant message: `content` (str) and `tool_calls` (a list,
        each {id, type, function: {name, arguments}}) when `tools=[...]` was passed and the model used them."""
        chain = self.config.remote_chain(role)
        log = CallLog(role=role, chain=chain)
        if not chain:
            raise ModelCallError(f"model role {role!r} has only offline backends ({self.chain(role)}); no model to call", log)
        router = self._get_router()
        if response_format is not None and all(
                self._supports(self.config.settings_for(m).response_schema, "supports_response_schema", m) for m in chain):
            params["response_format"] = response_format
            log.structured_output = True
        started = time.perf_counter()
        last: Exception | None = None
        for position, model in enumerate(chain):
            seen: dict[str, Any] = {}  # litellm fills in the retries it made and the errors it met
            counted, too_long = over_limit(self.config, model, messages, params.get("tools"))
            log.prompt_tokens_counted = counted
            if too_long is not None:  # never sent over a model's context
                last = ModelConfigError(f"{model}: {too_long}")
                log.errors.append(f"{model}: ContextTooLong: {too_long}")
                continue
            try:
                response = await router.acompletion(model=_group(role, model), messages=messages, metadata=seen,
                                                    fallbacks=[], **params)
            except Exception as e:  # litellm raises its own tree; translated here, once
                last = e
                log.retries += int(seen.get("attempted_retries") or 0)
                log.errors.append(f"{model}: {type(e).__name__}: {_short(_own_part(e))}")
                continue
            log.latency_ms = (time.perf_counter() - started) * 1000
            log.retries += int(seen.get("attempted_retries") or 0)
            log.errors.extend(f"{model}: {p.get('exception_type')}: {_short(p.get('exception_string', ''))} (retried)"
                              for p in seen.get("previous_models") or ())
            log.model, log.fallbacks_taken = model, position
            _fill_usage(log, response, self._priced(model))
            message = _message(response.choices[0].message)
            log.reasoning = message.pop("reasoning", None)
            return message, log
        log.latency_ms = (time.perf_counter() - started) * 1000
        log.fallbacks_taken = len(chain) - 1
        raise ModelCallError(f"model role {role!r}: every model failed ({', '.join(chain)}): {_short(_own_part(last))}",
                             log) from last

    def prompt_budget(self, role: str) -> int | None:
        """The most prompt tokens the role's chain takes (harness.context_budget); None: no limit is known."""
        return budget(self.config, role)

    def count_tokens(self, role: str, messages: list[dict[str, Any]]) -> int:
        """The prompt's tokens for the role's first model (the one with the smallest context when they differ)."""
        chain = self.config.remote_chain(role)
        limited = sorted((self.config.settings_for(m).context_tokens or 1 << 40, m) for m in chain)
        return count_tokens(limited[0][1] if limited else "gpt-4o", messages)

    def supports_tools(self, role: str) -> bool:
        """Every remote model of the role's chain can call functions (declared in its settings, else
        litellm's model map), so one request with `tools` serves the whole chain."""
        chain = self.config.remote_chain(role) if role in self.config.roles else []
        return bool(chain) and all(
            self._supports(self.config.settings_for(m).function_calling, "supports_function_calling", m) for m in chain)

    @staticmethod
    def _supports(declared: bool | None, probe: str, model: str) -> bool:
        """A capability the model's settings declare, else litellm's model map's answer (`probe`); no when
        litellm does not know the model."""
        if declared is not None:
            return declared
        try:
            return bool(getattr(litellm_module(), probe)(model=model))
        except Exception:  # unknown to litellm's model map
            return False

    def _priced(self, model: str) -> bool:
        """litellm reports 0.0 for a model it has no price for (its Router even registers ours at 0):
        that is 'unknown', not 'free'. Known: priced in our settings, or a non-zero price in the map."""
        if self.config.settings_for(model).priced():
            return True
        litellm = litellm_module()
        entry = litellm.model_cost.get(model) or litellm.model_cost.get(model.split("/", 1)[-1]) or {}
        return bool(entry.get("input_cost_per_token") or entry.get("output_cost_per_token"))

    def _get_router(self) -> Any:
        if self._router is None:
            litellm = litellm_module()

            # its Router logs every failed hop as an ERROR of its own; ours land in CallLog.errors
            logging.getLogger("LiteLLM Router").setLevel(logging.CRITICAL)

            model_list = [{"model_name": _group(role, model),
                           "litellm_params": self.config.settings_for(model).litellm_params(model)}
                          for role in self.config.roles for model in self.config.remote_chain(role)]
            if not model_list:
                raise ModelConfigError("no model role is configured with a remote model; see [models] in colossus.toml")
            fallbacks = [{_group(role, m): [_group(role, n) for n in chain[i + 1:]]}
                         for role in self.config.roles for chain in [self.config.remote_chain(role)]
                         for i, m in enumerate(chain[:-1])]
            self._router = litellm.Router(model_list=model_list, fallbacks=fallbacks, **self.config.router.router_kwargs())
        return self._router


def _group(role: str, model: str) -> str:
    return f"{role}{_SEP}{model}"


def _message(message: Any) -> dict[str, Any]:
    """litellm's Message as the plain dict the next request sends back (tool calls included); a thinking
    model's reasoning is kept apart (`reasoning`, for the log) and never sent back."""
    calls = [{"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments or "{}"}}
             for c in getattr(message, "tool_calls", None) or ()]
    reasoning = getattr(message, "reasoning_content", None)
    return {"role": "assistant", "content": message.content or "", **({"tool_calls": calls} if calls else {}),
            **({"reasoning": reasoning} if reasoning else {})}


def _fill_usage(log: CallLog, response: Any, priced: bool) -> None:
    hidden = getattr(response, "_hidden_params", None) or {}
    usage = getattr(response, "usage", None)
    if usage is not None:
        log.tokens_in = getattr(usage, "prompt_tokens", None)
        log.tokens_out = getattr(usage, "completion_tokens", None)
    cost = hidden.get("response_cost")
    log.cost_usd = float(cost) if priced and cost is not None else None


def _own_part(e: BaseException | None) -> str:
    """The provider's error without litellm's advice to configure Router fallbacks (we walk the chain)."""
    return str(e).split("\n\nLiteLLM: model group", 1)[0]


def _short(e: BaseException | str | None, limit: int = 400) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

"""Model roles through litellm: one Router, a fallback chain per role, a CallLog per call.

Role-agnostic: the vision server's `verifier`, the coordinator's `builder` and `summarizer` all
call `ModelRoles.complete(role, messages)`. Each role's models become their own deployment
groups (`<role>::<model>`), so the same model may sit in two chains with different fallbacks.
Cooldowns are off: every call walks its chain in order, so logs say what really happened.

litellm costs ~3 s to import, so it is imported on the first call, with its local cost map.

    ModelRoleError
    ├── ModelConfigError   (harness.model_config: role missing, bad table, key env var unset)
    └── ModelCallError     every model of the chain failed; carries the CallLog
"""

from __future__ import annotations

import os
import time
from typing import Any

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
        self._priced: frozenset[str] = frozenset()  # cost-map keys before the Router registered ours at 0

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
        chain = self.config.remote_chain(role)
        log = CallLog(role=role, chain=chain)
        if not chain:
            raise ModelCallError(f"model role {role!r} has only offline backends ({self.chain(role)}); no model to call", log)
        router = self._get_router()
        if response_format is not None and all(self._supports_schema(m) for m in chain):
            params["response_format"] = response_format
            log.structured_output = True
        started = time.perf_counter()
        try:
            response = await router.acompletion(model=_group(role, chain[0]), messages=messages, **params)
        except Exception as e:  # litellm raises its own tree; translated here, once
            log.latency_ms = (time.perf_counter() - started) * 1000
            log.fallbacks_taken = len(chain) - 1
            log.errors.append(f"{type(e).__name__}: {_short(e)}")
            raise ModelCallError(f"model role {role!r}: every model failed ({', '.join(chain)}): {_short(e)}", log) from e
        log.latency_ms = (time.perf_counter() - started) * 1000
        _fill_log(log, response, chain, self._priced)
        content = response.choices[0].message.content
        return (content or ""), log

    def _supports_schema(self, model: str) -> bool:
        declared = self.config.settings_for(model).response_schema
        if declared is not None:
            return declared
        import litellm

        try:
            return bool(litellm.supports_response_schema(model=model))
        except Exception:  # unknown to litellm's model map
            return False

    def _get_router(self) -> Any:
        if self._router is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm  # lazy: ~3 s

            self._priced = frozenset(litellm.model_cost)
            model_list: list[dict[str, Any]] = []
            fallbacks: list[dict[str, list[str]]] = []
            for role in self.config.roles:
                chain = self.config.remote_chain(role)
                for model in chain:
                    model_list.append({
                        "model_name": _group(role, model),
                        "litellm_params": self.config.settings_for(model).litellm_params(model),
                    })
                if len(chain) > 1:
                    fallbacks.append({_group(role, chain[0]): [_group(role, m) for m in chain[1:]]})
            if not model_list:
                raise ModelConfigError("no model role is configured with a remote model; see [models] in colossus.toml")
            self._router = litellm.Router(
                model_list=model_list, fallbacks=fallbacks, num_retries=0, disable_cooldowns=True,
            )
        return self._router


def _group(role: str, model: str) -> str:
    return f"{role}{_SEP}{model}"


def _fill_log(log: CallLog, response: Any, chain: list[str], priced: frozenset[str]) -> None:
    hidden = getattr(response, "_hidden_params", None) or {}
    headers = hidden.get("additional_headers") or {}
    group = headers.get("x-litellm-model-group") or ""
    log.model = group.split(_SEP, 1)[1] if _SEP in group else (hidden.get("litellm_model_name") or chain[0])
    # litellm's x-litellm-attempted-fallbacks header undercounts past the first hop; without
    # cooldowns the chain is walked in order, so the served model's position is exact.
    log.fallbacks_taken = chain.index(log.model) if log.model in chain else 0
    # the Router does not hand back the errors it fell back on; say at least who failed
    log.errors.extend(f"{m}: failed, fell back to the next model" for m in chain[: log.fallbacks_taken])
    usage = getattr(response, "usage", None)
    if usage is not None:
        log.tokens_in = getattr(usage, "prompt_tokens", None)
        log.tokens_out = getattr(usage, "completion_tokens", None)
    log.cost_usd = _known_cost(log.model, hidden.get("response_cost"), priced)


def _known_cost(model: str | None, cost: Any, priced: frozenset[str]) -> float | None:
    """litellm reports 0.0 for models missing from its cost map; that is 'unknown', not 'free'."""
    if cost is None or model is None:
        return None
    return float(cost) if model in priced or model.split("/", 1)[-1] in priced else None


def _short(e: BaseException, limit: int = 400) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

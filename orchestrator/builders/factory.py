"""Which builder an attempt gets: the run's `builder` option, the [models] table and the attempt's strategy.

`parametric` needs no model. `llm` and `hybrid` use the builder role, rotated by the strategy so
parallel attempts lead with different models; a builder model that can call functions gets the
tool-using builder when the run allows tool calls. With `parametric` listed in the builder chain,
the offline search takes over once every model is down (OfflineFallback).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.model_config import ModelsConfig
from orchestrator.builders.fallback import OfflineFallback
from orchestrator.builders.hybrid import HybridBuilder
from orchestrator.builders.interface import Builder
from orchestrator.builders.llm import LLMBuilder
from orchestrator.builders.parametric import ParametricBuilder
from orchestrator.builders.tool_using import ToolUsingBuilder
from orchestrator.state import RunConfig, Strategy

if TYPE_CHECKING:
    from harness.model_roles import ModelRoles

__all__ = ["BuilderFactory"]


class BuilderFactory:
    """Makes each attempt's builder; keeps one ModelRoles per chain rotation, so its Routers are reused."""

    def __init__(self, models_config: ModelsConfig) -> None:
        self.models_config = models_config
        self._roles: dict[int, ModelRoles] = {}

    def roles(self, rotation: int) -> ModelRoles:
        """The model roles with the builder chain rotated left by `rotation`."""
        from harness.model_roles import ModelRoles  # noqa: PLC0415 - litellm stays unimported until a model is called

        chain = self.models_config.roles.get("builder", [])
        rotation = rotation % len(chain) if chain else 0
        if rotation not in self._roles:
            roles = dict(self.models_config.roles)
            if rotation:
                roles["builder"] = chain[rotation:] + chain[:rotation]
            self._roles[rotation] = ModelRoles(self.models_config.model_copy(update={"roles": roles}))
        return self._roles[rotation]

    def make_builder(self, config: RunConfig, strategy: Strategy) -> Builder:
        if config.builder == "parametric":
            return ParametricBuilder()
        roles = self.roles(strategy.model_rotation)
        acts = config.tool_calls > 0 and roles.supports_tools("builder")  # else it writes whole programs
        llm = (ToolUsingBuilder if acts else LLMBuilder)(roles)
        builder: Builder = llm if config.builder == "llm" else HybridBuilder(llm)
        return OfflineFallback(builder) if self.models_config.offline_fallback("builder") == "parametric" else builder

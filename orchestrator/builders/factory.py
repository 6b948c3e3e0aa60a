"""Which builder an attempt gets: the run's `builder` option, the [models] table and the attempt's strategy.

`parametric` needs no model. `llm` and `hybrid` use the builder role, rotated by the strategy so
parallel attempts lead with different models; a builder model that can call functions gets the
tool-using builder when the run allows tool calls. With `parametric` listed in the builder chain,
the offline search takes over once every model is down (OfflineFallback). A run's own chains
(`RunConfig.models`) replace the configured ones role by role; with a `planner` role, it writes
each iteration's plan before the builder's code (PlannedBuilder).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.model_choice import with_models
from harness.model_config import ModelsConfig
from orchestrator.builders.fallback import OfflineFallback
from orchestrator.builders.hybrid import HybridBuilder
from orchestrator.builders.interface import Builder
from orchestrator.builders.llm import LLMBuilder
from orchestrator.builders.parametric import ParametricBuilder
from orchestrator.builders.planned import PlannedBuilder
from orchestrator.builders.tool_using import ToolUsingBuilder
from orchestrator.state import RunConfig, Strategy

if TYPE_CHECKING:
    from harness.model_roles import ModelRoles

__all__ = ["BuilderFactory"]


class BuilderFactory:
    """Makes each attempt's builder; keeps one ModelRoles per set of chains and rotation, so its Routers are reused."""

    def __init__(self, models_config: ModelsConfig) -> None:
        self.models_config = models_config
        self._roles: dict[tuple[object, int], ModelRoles] = {}

    def models(self, config: RunConfig | None = None) -> ModelsConfig:
        """The configured models with the run's own chains in place of theirs."""
        return with_models(self.models_config, config.models) if config is not None else self.models_config

    def roles(self, rotation: int, config: RunConfig | None = None) -> ModelRoles:
        """The run's model roles with the builder chain rotated left by `rotation`."""
        from harness.model_roles import ModelRoles  # noqa: PLC0415 - litellm stays unimported until a model is called

        models = self.models(config)
        chain = models.roles.get("builder", [])
        rotation = rotation % len(chain) if chain else 0
        key = (tuple((r, tuple(c)) for r, c in sorted(models.roles.items())), rotation)
        if key not in self._roles:
            roles = dict(models.roles)
            if rotation:
                roles["builder"] = chain[rotation:] + chain[:rotation]
            self._roles[key] = ModelRoles(models.model_copy(update={"roles": roles}))
        return self._roles[key]

    def make_builder(self, config: RunConfig, strategy: Strategy) -> Builder:
        if config.builder == "parametric":
            return ParametricBuilder()
        models = self.models(config)
        roles = self.roles(strategy.model_rotation, config)
        acts = config.tool_calls > 0 and roles.supports_tools("builder")  # else it writes whole programs
        llm: Builder = (ToolUsingBuilder if acts else LLMBuilder)(roles)
        if models.has_remote("planner"):  # the planner writes each iteration's plan before the builder's code
            llm = PlannedBuilder(llm, roles)
        builder: Builder = llm if config.builder == "llm" else HybridBuilder(llm)
        return OfflineFallback(builder) if models.offline_fallback("builder") == "parametric" else builder

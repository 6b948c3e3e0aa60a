"""The coordinator's prompts: data files in prompts/ next to this module, rendered strictly (harness.prompt_files)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from harness.errors import PromptError as TemplateMismatch
from harness.prompt_files import PromptFiles
from orchestrator.errors import PromptError

__all__ = ["render", "strategy_variants"]

_DIR = Path(__file__).parent / "prompts"
_PROMPTS = PromptFiles(_DIR)


def render(template: str, /, **variables: object) -> str:
    """The prompt `template` with `$variables` filled in; raises PromptError naming what does not match."""
    try:
        return _PROMPTS.render(template, **variables)
    except TemplateMismatch as e:
        raise PromptError(str(e)) from e


@cache
def strategy_variants() -> dict[str, str]:
    """Prompt variant name → instruction text, in file order (attempt i takes variant i mod n)."""
    table = tomllib.loads((_DIR / "strategies.toml").read_text(encoding="utf-8"))
    return {name: str(entry["text"]).strip() for name, entry in table.items()}

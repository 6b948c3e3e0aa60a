"""Prompts are data files next to this module, rendered strictly: a missing variable is an error."""

from __future__ import annotations

import string
import tomllib
from functools import cache
from pathlib import Path

from orchestrator.errors import PromptError

__all__ = ["render", "strategy_variants"]

_DIR = Path(__file__).parent / "prompts"


@cache
def _template(name: str) -> string.Template:
    return string.Template((_DIR / f"{name}.txt").read_text(encoding="utf-8"))


def render(template: str, /, **variables: object) -> str:
    """The prompt `template` with `$variables` filled in; raises PromptError naming what is missing."""
    try:
        return _template(template).substitute({k: str(v) for k, v in variables.items()})
    except KeyError as e:
        raise PromptError(f"prompt {template!r} needs variable {e.args[0]!r}") from None
    except ValueError as e:
        raise PromptError(f"prompt {template!r} is malformed: {e}") from None


@cache
def strategy_variants() -> dict[str, str]:
    """Prompt variant name → instruction text, in file order (attempt i takes variant i mod n)."""
    table = tomllib.loads((_DIR / "strategies.toml").read_text(encoding="utf-8"))
    return {name: str(entry["text"]).strip() for name, entry in table.items()}

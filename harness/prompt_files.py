"""Prompts are data files next to the code that renders them, rendered strictly.

The coordinator (orchestrator/prompts/) and the vision server (servers/viewport_vision/prompts/)
each keep their own folder of `<name>.txt` templates (`$variable` placeholders); this is the one
renderer both use. A missing variable and one the template does not use are both errors, so a
typo shows on either side; each template is read once per process.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from harness.errors import PromptError

__all__ = ["PromptFiles", "PromptError"]


class PromptFiles:
    """The templates of one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._templates: dict[str, Template] = {}

    def render(self, name: str, /, **variables: object) -> str:
        """Template `name` with its `$variables` filled in; PromptError names what does not match."""
        template = self._template(name)
        wanted = set(template.get_identifiers())
        if missing := wanted - variables.keys():
            raise PromptError(f"prompt {name!r}: missing variables {sorted(missing)}")
        if unused := variables.keys() - wanted:
            raise PromptError(f"prompt {name!r}: unknown variables {sorted(unused)}")
        return template.substitute({k: str(v) for k, v in variables.items()})

    def _template(self, name: str) -> Template:
        if name not in self._templates:
            template = Template((self.folder / f"{name}.txt").read_text(encoding="utf-8"))
            if not template.is_valid():
                raise PromptError(f"prompt {name!r} is malformed: a `$` that starts no variable (write `$$` for a dollar)")
            self._templates[name] = template
        return self._templates[name]

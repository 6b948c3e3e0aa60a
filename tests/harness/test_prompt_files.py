"""Prompt templates: rendered strictly, read once."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import PromptError
from harness.prompt_files import PromptFiles


def test_a_prompt_renders_with_exactly_its_variables(tmp_path: Path) -> None:
    (tmp_path / "greet.txt").write_text("Build $thing at ${size}m, costs $$5.")
    prompts = PromptFiles(tmp_path)
    assert prompts.render("greet", thing="a mug", size=2) == "Build a mug at 2m, costs $5."
    with pytest.raises(PromptError, match=r"'greet': missing variables \['size'\]"):
        prompts.render("greet", thing="a mug")
    with pytest.raises(PromptError, match=r"'greet': unknown variables \['colour'\]"):
        prompts.render("greet", thing="a mug", size=2, colour="red")


def test_a_stray_dollar_is_reported_as_a_malformed_template(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text("costs $5")
    with pytest.raises(PromptError, match=r"'bad' is malformed"):
        PromptFiles(tmp_path).render("bad")


def test_a_template_is_read_once_per_folder(tmp_path: Path) -> None:
    (tmp_path / "once.txt").write_text("v1 $x")
    prompts = PromptFiles(tmp_path)
    assert prompts.render("once", x=1) == "v1 1"
    (tmp_path / "once.txt").write_text("v2 $x")
    assert prompts.render("once", x=1) == "v1 1"

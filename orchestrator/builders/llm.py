"""The model builder: the `builder` role (litellm, with its fallback chain) writes and fixes programs.

The prompt is rebuilt every turn from the task and the attempt's memory; the program is the
reply's ```python block. A reply without code is the model's fault: it comes back as an
execution error the next fix answers. Every model of the chain failing is ours: the attempt stops.
"""

from __future__ import annotations

import ast
import re
import time
from pathlib import Path
from typing import Any, Protocol

from harness.report import ExecutionReport
from harness.vision_types import CallLog
from orchestrator.blueprint_loop import plans_note
from orchestrator.builders.interface import BuildContext, Proposal
from orchestrator.context_fit import fit_prompt
from orchestrator.errors import BuilderUnavailable
from orchestrator.memory import image_part
from orchestrator.params import ParamError, find_params
from orchestrator.patch import PatchError, apply_unified_diff
from orchestrator.prompts import render

__all__ = ["Completer", "LLMBuilder", "extract_code", "task_messages"]

_FENCE = re.compile(r"```(?P<lang>[A-Za-z0-9_+-]*)[ \t]*\n(?P<body>.*?)```", re.DOTALL)


class Completer(Protocol):
    """harness.model_roles.ModelRoles satisfies this."""

    async def complete(self, role: str, messages: list[dict[str, Any]]) -> tuple[str, CallLog]: ...
    async def respond(self, role: str, messages: list[dict[str, Any]], **params: Any) -> tuple[dict[str, Any], CallLog]: ...


def extract_code(text: str) -> tuple[str, str]:
    """(plan, code) from a reply: the last ```python block (else the last fenced block, else the whole
    reply if it parses as python). Code is '' when there is none."""
    blocks = list(_FENCE.finditer(text))
    py = [b for b in blocks if b.group("lang").lower() in ("python", "py")] or [b for b in blocks if not b.group("lang")]
    if py:
        chosen = py[-1]
        return text[: blocks[0].start()].strip(), chosen.group("body").strip() + "\n"
    try:
        ast.parse(text)
        return "", text.strip() + "\n"
    except SyntaxError:
        return text.strip(), ""


def task_messages(ctx: BuildContext) -> list[dict[str, Any]]:
    """System prompt with the attempt's strategy, then the task with its reference images."""
    task, r = ctx.task, ctx.task.render
    refs = f"Reference renders follow for views: {', '.join(sorted(task.references))}." if task.references else "No reference images."
    if task.blueprint is not None:
        refs += " " + plans_note(task.blueprint)
    start = f"A starting program:\n```python\n{task.start_code}\n```" if task.start_code else ""
    examples = "".join(f"\nA program that scored well on a similar past task:\n```python\n{code}\n```" for code in ctx.examples)
    if ctx.example_renders:
        examples += f"\nRenders of that program follow for views: {', '.join(sorted(ctx.example_renders))}."
    text = render("builder_task", name=task.name, description=task.description, views=", ".join(r.views),
                  framing=r.framing, target=list(r.target), distance=r.distance, references=refs,
                  start_program=start, examples=examples)
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for view, path in sorted(task.references.items()):
        content += [{"type": "text", "text": f"Reference, {view} view:"}, image_part(Path(path))]
    for view, path in sorted(ctx.example_renders.items()):
        content += [{"type": "text", "text": f"The similar past task's program, rendered, {view} view:"}, image_part(path)]
    for view, bv in sorted(task.blueprint.views.items() if task.blueprint else ()):
        content += [{"type": "text", "text": f"Plan, {view} view:"}, image_part(bv.image)]
    return [{"role": "system", "content": render("builder_system", strategy=ctx.strategy.prompt_text or "default")},
            {"role": "user", "content": content}]


class LLMBuilder:
    name = "llm"

    def __init__(self, models: Completer, role: str = "builder") -> None:
        self.models = models
        self.role = role

    async def _ask(self, messages: list[dict[str, Any]], **params: Any) -> tuple[dict[str, Any], CallLog, float]:
        """The model's whole reply message (content, tool_calls), its CallLog and the seconds it took."""
        started = time.perf_counter()
        try:
            message, log = await self.models.respond(self.role, messages, **params)
        except Exception as e:  # every model of the chain failed: our side, the attempt stops
            err = BuilderUnavailable(f"builder role {self.role!r}: {e}")
            err.log = getattr(e, "log", None)
            raise err from e
        return message, log, time.perf_counter() - started

    def _proposal(self, text: str, log: CallLog, seconds: float) -> Proposal:
        plan, code = extract_code(text)
        try:
            params = {p.name: p.value for p in find_params(code)} if code else None
        except ParamError:
            params = None
        return Proposal(builder=self.name, code=code, plan=plan, raw=text, params=params or None,
                        calls=[log], model_s=seconds)

    async def propose(self, ctx: BuildContext) -> Proposal:
        best = ctx.memory.best()
        tail = [{"role": "user", "content": render(
            "builder_next", iteration=ctx.iteration, best_score=f"{best.score:.3f}" if best else "none")}]
        messages = fit_prompt(self.models, self.role, task_messages(ctx), ctx.memory, tail + ctx.plan_messages())
        message, log, seconds = await self._ask(messages)
        return self._proposal(message["content"], log, seconds)

    async def fix(self, ctx: BuildContext, code: str, report: ExecutionReport, number: int = 1) -> Proposal | None:
        """The fixer may answer with the full program or a unified diff against it (```diff)."""
        messages = task_messages(ctx) + [{"role": "user", "content": render(
            "builder_fix", code=code.rstrip(), error=report.feedback(), fix_number=number,
            fix_limit=ctx.config.fix_retries)}]
        message, log, seconds = await self._ask(messages)
        text = message["content"]
        diff = next((b.group("body") for b in _FENCE.finditer(text) if b.group("lang").lower() in ("diff", "patch")), None)
        if diff is None:
            return self._proposal(text, log, seconds)
        try:
            patched = apply_unified_diff(code, diff)
        except PatchError as e:  # the model's fault: the next fix sees this as the error
            patched = f"raise RuntimeError({str(e)!r})  # the fixer's diff did not apply\n"
        proposal = self._proposal(f"```python\n{patched}```", log, seconds)
        return proposal.model_copy(update={"raw": text, "plan": text[: text.find("```")].strip()})

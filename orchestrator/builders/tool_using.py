"""The tool-using builder: where the builder model can call functions, an iteration is a short agent turn.

The model acts on the live scene (execute code, look at a view, read the scene's facts, start
over) and calls the worker's corrective and geometry-node tools directly, the sentinel's
suggestions among them, up to `RunConfig.tool_calls` calls. Every change is recorded as code by
the `Workbench`, so the proposal is still one program from the baseline: the loop renders,
checks and scores it as any other, and resume and isolation hold. Fixes of a program that fails
on replay are the program-only builder's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from harness.scene_types import VIEW_NAMES
from harness.vision_types import CallLog
from orchestrator.builders.interface import BuildContext, Proposal
from orchestrator.builders.llm import LLMBuilder, extract_code, task_messages
from orchestrator.context_fit import fit_prompt
from orchestrator.memory import ToolCallRecord, image_part
from orchestrator.prompts import render
from orchestrator.workbench import Workbench

__all__ = ["ToolUsingBuilder", "SCENE_TOOLS"]

RESULT_CHARS = 3000  # of one tool's answer, to the model and into tools.json
SPENT = "not run: this iteration's tool calls were spent"


def _function(name: str, description: str, properties: dict[str, Any] | None = None,
              required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"name": name, "description": description,
            "parameters": {"type": "object", "properties": properties or {}, "required": list(required)}}


SCENE_TOOLS = (
    _function("execute_code", "Run bpy code on the scene as it is now (bpy, bmesh, mathutils, math, random, json and "
              "`tools` are imported); what it changes stays. Returns the execution report and stdout.",
              {"code": {"type": "string", "description": "Python using bpy"}}, ("code",)),
    _function("get_scene_info", "The scene's objects now: names, types, locations, dimensions, materials, modifiers."),
    _function("look", "Render one view of the scene as it is now, with the task's camera; the image comes back.",
              {"view": {"type": "string", "enum": list(VIEW_NAMES)}}, ("view",)),
    _function("reset_scene", "Back to the empty baseline scene, dropping everything this iteration recorded."),
)


class ToolUsingBuilder(LLMBuilder):
    name = "llm-tools"

    async def propose(self, ctx: BuildContext) -> Proposal:
        bench = ctx.workbench
        if bench is None or ctx.config.tool_calls == 0:  # nothing to act on: write a whole program
            return await super().propose(ctx)
        best = ctx.memory.best()
        base = best.code if best else (ctx.task.start_code or "")
        started = await bench.begin(base)
        holds = (f"the result of iteration {best.index}, the best so far" if best else
                 "the task's start program" if base.strip() else "the empty baseline")
        if started is not None and not started.success:  # it ran before; say what the model is looking at now
            holds = f"the empty baseline: the program it should hold failed to run again ({started.feedback()[:300]})"
        worker_tools = bench.tool_specs()
        tools = [{"type": "function", "function": f} for f in (*SCENE_TOOLS, *worker_tools)]
        tail = [{"role": "user", "content": render(
            "builder_tools", iteration=ctx.iteration, best_score=f"{best.score:.3f}" if best else "none",
            holds=holds,
            worker_tools=", ".join(t["name"] for t in worker_tools) or "none on this worker",
            suggestions=_suggestions(ctx), budget=ctx.config.tool_calls)}]
        messages = fit_prompt(self.models, self.role, task_messages(ctx), ctx.memory, tail + ctx.plan_messages())
        turn = _Turn(bench, ctx.config.tool_calls, {t["name"] for t in worker_tools})
        while True:
            message, log, seconds = await self._ask(messages, tools=tools)
            turn.logged(message, log, seconds)
            messages.append(message)
            calls = message.get("tool_calls") or []
            if not calls:
                await turn.finish(message["content"])
                break
            messages += await turn.answer(calls)
            if turn.left == 0:
                break
        return Proposal(builder=self.name, code=bench.code, plan=turn.plan, raw="\n\n".join(turn.raw),
                        calls=turn.logs, model_s=turn.model_s, tool_calls=turn.records)


def _suggestions(ctx: BuildContext) -> str:
    """The latest iteration's sentinel findings that name a corrective tool (VIS-06), as callable advice."""
    last = ctx.memory.steps[-1] if ctx.memory.steps else None
    issues = [i for i in (last.sentinel.issues if last and last.sentinel else []) if i.suggested_tool]
    lines = [f"- {i.message} → {i.suggested_tool}({json.dumps(i.suggested_args)[1:-1]})" for i in issues]
    return ("The sentinel's findings on the last result, with the tool it suggests:\n" + "\n".join(lines)) if lines else ""


class _Turn:
    """One iteration's agent turn: answers tool calls through the workbench and keeps their records."""

    def __init__(self, bench: Workbench, budget: int, worker_tools: set[str]) -> None:
        self.bench, self.left = bench, budget
        self.records: list[ToolCallRecord] = []
        self.logs: list[CallLog] = []
        self.raw: list[str] = []
        self.plan = ""
        self.model_s = 0.0
        self._worker_tools = worker_tools

    def logged(self, message: dict[str, Any], log: CallLog, seconds: float) -> None:
        self.logs.append(log)
        self.model_s += seconds
        calls = [f"→ {c['function']['name']}({c['function']['arguments']})" for c in message.get("tool_calls") or ()]
        self.raw.append("\n".join([message["content"], *calls]).strip())
        self.plan = message["content"].strip() or self.plan

    async def finish(self, text: str) -> None:
        """A closing reply with a whole program replaces the scene with it (a model that ignores tools)."""
        _, code = extract_code(text)
        if code.strip() and "```" in text:
            await self.bench.start_over()
            report = await self.bench.run(code)
            self.records.append(ToolCallRecord(name="program", arguments={"code": code}, ok=report.success,
                                               result=report.feedback()[:RESULT_CHARS],
                                               recorded=code if report.success else None))

    async def answer(self, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The tool messages answering each call (and a user message per image looked at)."""
        replies: list[dict[str, Any]] = []
        images: list[dict[str, Any]] = []
        for call in calls:
            if self.left == 0:  # the turn ends after this message: logged, never run
                self.records.append(ToolCallRecord(name=call["function"]["name"], ok=False, result=SPENT))
                continue
            self.left -= 1
            started = time.perf_counter()
            name = call["function"]["name"]
            record = ToolCallRecord(name=name, ok=False)
            try:
                arguments = json.loads(call["function"].get("arguments") or "{}")
                if not isinstance(arguments, dict):
                    raise ValueError("arguments must be a JSON object")
                record.arguments = arguments
                record.ok, text, record.recorded, image = await self._dispatch(name, arguments)
            except (ValueError, TypeError) as e:
                text, image = f"bad call to {name}: {e}", None
            record.result, record.ms = text[:RESULT_CHARS], round((time.perf_counter() - started) * 1000, 1)
            self.records.append(record)
            replies.append({"role": "tool", "tool_call_id": call["id"], "content": record.result})
            if image is not None:
                images += [{"type": "text", "text": f"The {record.arguments.get('view')} view now:"}, image_part(image)]
        if images:  # tool messages carry text only: the images follow as the user's
            replies.append({"role": "user", "content": images})
        return replies

    async def _dispatch(self, name: str, arguments: dict[str, Any]) -> tuple[bool, str, str | None, Path | None]:
        """(ok, what the model is told, code recorded into the program, image to show)."""
        bench = self.bench
        if name == "execute_code":
            code = arguments.get("code")
            if not isinstance(code, str) or not code.strip():
                raise ValueError("`code` must be a non-empty string")
            report = await bench.run(code)
            text = report.feedback() + (f"\nstdout:\n{report.stdout[-1500:]}" if report.stdout.strip() else "")
            return report.success, text, code if report.success else None, None
        if name == "get_scene_info":
            info = (await bench.info()).model_dump(mode="json", exclude_none=True)
            return True, json.dumps(info, separators=(",", ":")), None, None
        if name == "look":
            view = arguments.get("view")
            if view not in VIEW_NAMES:
                raise ValueError(f"`view` must be one of {', '.join(VIEW_NAMES)}")
            return True, f"rendered the {view} view; the image follows", None, await bench.look(view)
        if name == "reset_scene":
            await bench.start_over()
            return True, "the scene is back to the baseline; nothing is recorded", None, None
        if name in self._worker_tools:
            line = _tool_line(name, arguments)
            report = await bench.run(line)
            answer = next((ln for ln in reversed(report.stdout.splitlines()) if ln.startswith('{"tool"')), "")
            return report.success, answer if report.success else report.feedback(), line if report.success else None, None
        known = [t["name"] for t in SCENE_TOOLS] + sorted(self._worker_tools)
        raise ValueError(f"no tool named {name!r}; the tools are {', '.join(known)}")


def _tool_line(name: str, arguments: dict[str, Any]) -> str:
    """The worker tool call as one line of the program (JSON values are Python literals through repr)."""
    if bad := [k for k in arguments if not k.isidentifier()]:
        raise ValueError(f"argument names must be identifiers: {bad}")
    return f"tools.{name}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})\n"

"""An attempt's memory: typed iteration steps that render themselves into prompt messages.

The prompt is rebuilt from the steps every turn (never a growing transcript): the last `window`
steps in full, older ones as one-paragraph summaries — from the summarizer role when one is
configured, else a deterministic extractive summary. Steps serialise into the checkpoint as they are.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from harness.gpu_presets import CyclesDevice
from harness.blueprint_types import BlueprintReport
from harness.image_format import image_mime
from harness.report import ExecutionReport
from harness.scene_types import SceneInfo
from harness.vision_types import CallLog, CompareResult, SentinelReport, VerifierOutput
from orchestrator.blueprint_loop import feedback_lines as _blueprint_lines
from orchestrator.degradation import Degradation

__all__ = ["ExecutionRecord", "ToolCallRecord", "IterationStep", "AttemptMemory", "image_part"]

Message = dict[str, Any]


class ExecutionRecord(BaseModel):
    """One run of one program: the builder's first try or one of its fixes."""

    code: str
    report: ExecutionReport


class ToolCallRecord(BaseModel):
    """One tool call of a tool-using builder's turn (tools.json): what it asked, what it was told, what
    it recorded into the program (a call that changed the scene is a line of code.py)."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    ok: bool
    result: str = Field("", description="what the model was told, truncated")
    recorded: str | None = Field(None, description="the code this call added to the iteration's program")
    ms: float = 0.0


class Probe(BaseModel):
    """A parameter set whose geometry was measured without a render (a Jacobian column of the search)."""

    params: dict[str, list[float]]
    vector: list[float | None] | None = Field(None, description="the search's residual vector, None where only a "
                                                                "render knows the entry; None when the program failed")


class IterationStep(BaseModel):
    """Everything one iteration did; `code` is the program that finally ran."""

    index: int
    builder: str = ""
    plan: str = ""
    code: str = ""
    raw: str = Field("", description="the builder's full reply (generator_raw.txt)")
    params: dict[str, list[float]] | None = None
    executions: list[ExecutionRecord] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list, description="a tool-using builder's calls (tools.json)")
    renders: dict[str, str] = Field(default_factory=dict, description="view → PNG path")
    scene: SceneInfo | None = Field(None, description="scene facts after the program ran")
    sentinel: SentinelReport | None = None
    compare: CompareResult | None = None
    critique: VerifierOutput | None = None
    blueprint: BlueprintReport | None = Field(None, description="plan renders against the task's drawings, in metres")
    sentinel_penalty: float = 0.0
    evaluator_errors: list[str] = Field(default_factory=list, description="evaluator failures that did not stop the step")
    score: float = 0.0
    calls: list[CallLog] = Field(default_factory=list)
    error: str | None = Field(None, description="a failure on our side that stopped the attempt here")
    degradations: list[Degradation] = Field(default_factory=list, description="roles an offline backend took over here")
    started_at: float = Field(default_factory=time.time)
    elapsed_s: float = 0.0
    model_s: float = Field(0.0, description="seconds spent waiting for models")
    render_ms: float = Field(0.0, description="Blender's own render time of the pack")
    cycles: CyclesDevice | None = Field(None, description="device, samples and tile Cycles rendered with (None: Workbench)")
    phase_ms: dict[str, float] = Field(default_factory=dict, description="wall time per phase: build, execute (with the render), evaluate, remember")
    probes: list[Probe] = Field(default_factory=list, description="geometry measured without a render while building")
    ticket: int | None = Field(None, description="its place in the run's shared search: which evaluations its "
                                                 "proposal saw (orchestrator.builders.siblings)")

    def degraded(self, role: str) -> bool:
        """An offline backend took over `role` in this step."""
        return any(d.role == role for d in self.degradations)

    @property
    def execution(self) -> ExecutionReport | None:
        return self.executions[-1].report if self.executions else None

    @property
    def ran(self) -> bool:
        return self.execution is not None and self.execution.success

    def feedback(self) -> str:
        """What the evaluators said, for the builder: execution, sentinel issues, metrics, critique."""
        lines: list[str] = []
        if self.execution is not None:
            lines.append("Execution: " + self.execution.feedback())
        if self.scene is not None:
            lines.append(f"Scene: {len(self.scene.objects)} object(s)" + "".join(
                f"; {o.name} ({o.type}) at {_fmt(list(o.location))} size {_fmt(list(o.dimensions))}"
                + (f" materials {', '.join(o.materials)}" if o.materials else "") for o in self.scene.objects[:12]))
        if self.sentinel is not None:
            for issue in self.sentinel.issues:
                tool = f" (try {issue.suggested_tool})" if issue.suggested_tool else ""
                where = f" [{issue.view}]" if issue.view else ""
                lines.append(f"Sentinel {issue.severity}{where}: {issue.message}{tool}")
        if self.compare is not None:
            per_view = ", ".join(f"{v} {m.score:.3f}" for v, m in self.compare.views.items())
            m = self.compare.mean
            lines.append(f"Reference match {self.compare.score:.3f} ({per_view}); silhouette IoU {m.silhouette_iou:.3f}, "
                         f"pixel loss {m.pixel_loss:.4f}, edge distance {m.edge_distance:.4f}")
            lines += [f"Against the reference, {d}" for d in self.compare.directions]
        if self.blueprint is not None:
            lines += _blueprint_lines(self.blueprint)
        if self.critique is not None:
            c = self.critique
            lines += [f"Critic issue: {i}" for i in c.issues] + [f"Critic suggestion: {s}" for s in c.suggestions]
        lines.append(f"Score: {self.score:.3f}" + (f" (sentinel penalty {self.sentinel_penalty:.2f})" if self.sentinel_penalty else ""))
        return "\n".join(lines)

    def summary(self) -> str:
        """A deterministic extractive one-paragraph summary (used offline and as the summarizer's input)."""
        plan = self.plan.strip().split("\n", 1)[0][:160]
        status = "ran" if self.ran else (f"failed ({self.execution.error_class.value})" if self.execution else "did not run")
        issues = [i.category for i in self.sentinel.issues] if self.sentinel else []
        critique = self.critique.issues[:2] if self.critique else []
        parts = [f"Iteration {self.index} ({self.builder}): score {self.score:.3f}, code {status}"]
        if plan:
            parts.append(f"plan: {plan}")
        if self.params:
            parts.append("params: " + ", ".join(f"{k}={_fmt(v)}" for k, v in self.params.items()))
        if issues:
            parts.append("sentinel: " + ", ".join(sorted(set(issues))))
        if critique:
            parts.append("critic: " + "; ".join(critique))
        return "; ".join(parts) + "."

    def to_messages(self, with_images: bool) -> list[Message]:
        """This step as an assistant turn (its program) and a user turn (what came of it)."""
        assistant = f"Plan: {self.plan.strip() or '(none)'}\n```python\n{self.code}\n```"
        text = f"Result of iteration {self.index}:\n{self.feedback()}"
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        if with_images:
            for view, path in sorted(self.renders.items()):
                content += [{"type": "text", "text": f"Render, {view} view:"}, image_part(Path(path))]
        return [{"role": "assistant", "content": assistant}, {"role": "user", "content": content}]


def _fmt(v: list[float]) -> str:
    return f"{v[0]:.3g}" if len(v) == 1 else "(" + ", ".join(f"{x:.3g}" for x in v) + ")"


def image_part(path: Path) -> dict[str, Any]:
    """An OpenAI-style image part carrying the image (a PNG render or a PNG/JPEG reference) as a data URL."""
    blob = path.read_bytes()
    mime = image_mime(blob)
    if mime is None:
        raise ValueError(f"{path} is not a PNG or JPEG image")
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{base64.b64encode(blob).decode('ascii')}"}}


class AttemptMemory(BaseModel):
    """The attempt's steps, a sliding window over them, and summaries of the steps that left it.

    A forked attempt (orchestrator.fork) also remembers `prior`: the memory of the attempt it was
    forked from, up to the forked iteration. Its steps come first in the prompt's history, so the
    builder goes on from the conversation it had there; they are not this attempt's iterations
    (no files, no score, no spend of this run).
    """

    steps: list[IterationStep] = Field(default_factory=list)
    window: int = Field(3, ge=1)
    summaries: dict[int, str] = Field(default_factory=dict, description="step index → summary text")
    prior: AttemptMemory | None = Field(None, description="a fork's inherited memory, up to the forked iteration")

    def degraded(self, role: str) -> bool:
        """Some step already fell back to the offline backend for `role` (it stays offline for the attempt)."""
        return any(s.degraded(role) for s in self.steps)

    def add(self, step: IterationStep) -> None:
        self.steps = [s for s in self.steps if s.index != step.index] + [step]

    def best(self) -> IterationStep | None:
        ran = [s for s in self.steps if s.ran]
        return max(ran, key=lambda s: (s.score, -s.index)) if ran else None

    def older(self) -> list[IterationStep]:
        """Own steps that fell out of the window (they are shown as summaries). A fork's inherited
        steps come before its own, so its own steps are the window's tail either way."""
        return self.steps[: max(0, len(self.steps) - self.window)]

    def unsummarised(self) -> list[IterationStep]:
        return [s for s in self.older() if s.index not in self.summaries]

    def history(self) -> list[tuple[IterationStep, str | None]]:
        """Every remembered step, oldest first, with its summary when one was written: inherited, then own."""
        inherited = self.prior.history() if self.prior is not None else []
        return inherited + [(s, self.summaries.get(s.index)) for s in self.steps]

    def to_messages(self, window: int | None = None, summaries: int | None = None, images: bool = True) -> list[Message]:
        """Summaries of older steps, then the window in full; only the newest step carries its renders.

        A prompt that must fit a small context (orchestrator.context_fit) asks for a narrower `window`, only
        the newest `summaries` summaries (the rest are dropped, and the prompt says how many), or no `images`."""
        out: list[Message] = []
        window = self.window if window is None else window
        history = self.history()
        inherited = len(history) - len(self.steps)
        if inherited:
            out.append({"role": "user", "content": (
                f"This attempt was forked from another one: the first {inherited} iteration(s) below are that "
                "attempt's, numbered as they were there; this attempt's own iterations follow, numbered from 0.")})
        cut = max(0, len(history) - window)
        if cut:
            lines = [summary or s.summary() for s, summary in history[:cut]]
            kept = lines if summaries is None else lines[len(lines) - summaries:] if summaries > 0 else []
            dropped = f"({len(lines) - len(kept)} earlier iteration(s) left out to fit the model's context)\n" \
                if len(kept) < len(lines) else ""
            text = dropped + "\n".join(kept)
            out.append({"role": "user", "content": f"Summary of earlier iterations:\n{text}"})
        for i, (step, _) in enumerate(history[cut:], start=cut):
            out += step.to_messages(with_images=images and i == len(history) - 1)
        return out

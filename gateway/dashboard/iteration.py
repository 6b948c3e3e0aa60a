"""One iteration of a run as the dashboard shows it, read from the run folder (orchestrator.artifacts).

The files an iteration leaves (code.py, plan.txt, sentinel.json, verifier.json, models.json,
execution.json, tools.json, renders/, looks/), with the run's ref/ and plans/, are the record: they
exist for finished, interrupted and live runs alike, so one reader serves every case. Images are
named by a link function: the HTTP side links to its own /files/ route, the MCP App bridge gets
data URLs (a sandboxed iframe may fetch nothing).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from gateway.errors import BadRequest
from harness.blueprint_types import plan_name
from harness.vision_types import CallLog
from orchestrator.artifacts import RunFolder, read_json
from orchestrator.spend import Spend, spend_of

__all__ = ["IterationDetail", "iteration_detail", "landed_iteration_detail", "data_url", "IMAGE_TYPES",
           "MAX_INLINE_BYTES", "LANDING_WAIT_S"]

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
MAX_INLINE_BYTES = 2 * 2**20  # a data URL larger than this is left out: the bridge carries JSON-RPC messages
LANDING_WAIT_S = 2.0  # how long a live run's newest iteration may take to reach the disk after its event
Link = Callable[[RunFolder, Path], str | None]


class IterationDetail(BaseModel):
    run_id: str
    attempt: int
    iteration: int
    score: float | None = Field(None, description="None while verifier.json is not written (or the iteration failed early)")
    sentinel_penalty: float = 0.0
    plan: str = ""
    code: str = ""
    renders: dict[str, str | None] = Field(default_factory=dict, description="view → image link (URL or data URL)")
    references: dict[str, str | None] = Field(default_factory=dict, description="view → reference image link; a blueprint "
                                                                                "drawing under its orthographic render's name")
    plans: dict[str, dict[str, float]] = Field(default_factory=dict, description="orthographic render name → its IoU and "
                                                                                "profile agreement against the drawing")
    view_scores: dict[str, float] = Field(default_factory=dict)
    sentinel: list[dict[str, Any]] = Field(default_factory=list, description="the sentinel's findings")
    directions: list[str] = Field(default_factory=list, description="which way each view differs from its reference")
    residuals: dict[str, dict[str, float]] = Field(default_factory=dict, description="view → named signed residuals")
    subject_masks: dict[str, str] = Field(default_factory=dict, description="view → the subjects measured (PNG data URL: "
                                                                            "render green, reference red, both yellow)")
    critique: dict[str, Any] | None = Field(None, description="the VLM verifier's critique, when one was asked")
    feedback: str = ""
    evaluator_errors: list[str] = Field(default_factory=list)
    execution: dict[str, Any] = Field(default_factory=dict, description="success, error class, exception, fixes")
    models: list[CallLog] = Field(default_factory=list, description="the model calls of this iteration")
    tool_calls: list[dict[str, Any]] = Field(default_factory=list, description="a tool-using builder's calls (tools.json)")
    looks: dict[str, str | None] = Field(default_factory=dict, description="'builder-1 front' / 'verifier-2 iso' → image "
                                                                          "link: the views the builder and the verifier looked at")
    spend: Spend = Field(default_factory=Spend)


def data_url(_folder: RunFolder, path: Path) -> str | None:
    """The image inline, for hosts whose iframe may not fetch; None above MAX_INLINE_BYTES."""
    blob = path.read_bytes()
    if len(blob) > MAX_INLINE_BYTES:
        return None
    return f"data:{IMAGE_TYPES[path.suffix.lower()]};base64,{base64.b64encode(blob).decode('ascii')}"


def _images(folder: RunFolder, directory: Path, link: Link) -> dict[str, str | None]:
    if not directory.is_dir():
        return {}
    return {p.stem: link(folder, p) for p in sorted(directory.iterdir())
            if p.suffix.lower() in IMAGE_TYPES and "." not in p.stem}  # front.mask.png sits beside front.png


def _drawings(folder: RunFolder, link: Link) -> dict[str, str | None]:
    """The task's blueprint drawings (the run folder's plans/), each named as the orthographic render it is compared with."""
    return {plan_name(view): url for view, url in _images(folder, folder.root / "plans", link).items()}


def _looks(folder: RunFolder, directory: Path, link: Link) -> dict[str, str | None]:
    """looks/<who>-<n>/<view>.png, in the order they were taken."""
    if not directory.is_dir():
        return {}
    taken = sorted((d for d in directory.iterdir() if d.is_dir()), key=lambda d: (d.name.split("-")[0], _number(d.name)))
    return {f"{d.name} {view}": url for d in taken for view, url in _images(folder, d, link).items()}


def _number(name: str) -> int:
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _json(path: Path, default: Any) -> Any:
    return read_json(path) if path.is_file() else default


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _execution(raw: dict[str, Any]) -> dict[str, Any]:
    final = raw.get("final") or {}
    exception = final.get("exception") or {}
    return {"success": final.get("success"), "error_class": final.get("error_class"),
            "exception": f"{exception.get('type')}: {exception.get('message')}" if exception else None,
            "fixes": raw.get("fixes", 0), "error": raw.get("error")}


def iteration_detail(runs_dir: Path, run_id: str, attempt: int, iteration: int, link: Link) -> IterationDetail:
    """Everything the dashboard shows of one iteration; BadRequest when the run has no such iteration (yet)."""
    folder = RunFolder.open(runs_dir, run_id)
    where = folder.iter_dir(attempt, iteration)
    if attempt < 0 or iteration < 0 or not (where / "models.json").is_file():  # written last (RunFolder.write_iteration)
        raise BadRequest(f"run {run_id} has no iteration {iteration} of attempt {attempt} (not written yet?)")
    verdict = _json(where / "verifier.json", {})
    compare = verdict.get("compare") or {}
    views = compare.get("views") or {}
    calls = [CallLog.model_validate(c) for c in _json(where / "models.json", [])]
    plans = verdict.get("blueprint") or {}
    residuals = {view: {k: float(v) for k, v in (m.get("residuals") or {}).items()
                        if isinstance(v, (int, float)) and not isinstance(v, bool)}
                 for view, m in views.items() if m.get("residuals")}
    return IterationDetail(
        run_id=run_id, attempt=attempt, iteration=iteration, score=verdict.get("score"),
        sentinel_penalty=verdict.get("sentinel_penalty") or 0.0, plan=_text(where / "plan.txt"),
        code=_text(where / "code.py"), renders=_images(folder, where / "renders", link),
        references=_images(folder, folder.root / "ref", link) | _drawings(folder, link),
        plans={plan_name(v): {"iou": m["iou"], "profile_agreement": m["profile_agreement"]}
               for v, m in (plans.get("views") or {}).items()},
        view_scores={view: m["score"] for view, m in views.items() if isinstance(m.get("score"), (int, float))}
        | {plan_name(v): m["score"] for v, m in (plans.get("views") or {}).items()},
        sentinel=_json(where / "sentinel.json", {}).get("issues", []),
        directions=(compare.get("directions") or []) + (plans.get("directions") or []),
        residuals=residuals, subject_masks={view: m["subject_masks"] for view, m in views.items() if m.get("subject_masks")},
        critique=verdict.get("critique"), feedback=verdict.get("feedback") or "",
        evaluator_errors=verdict.get("evaluator_errors") or [], execution=_execution(_json(where / "execution.json", {})),
        models=calls, spend=spend_of(calls), tool_calls=_json(where / "tools.json", []),
        looks=_looks(folder, where / "looks", link))


async def landed_iteration_detail(runs_dir: Path, run_id: str, attempt: int, iteration: int,
                                  link: Link) -> IterationDetail:
    """iteration_detail, waiting up to LANDING_WAIT_S while the run is running (run.json): the loop announces
    an iteration (RunService.get wakes) a moment before its writer thread has put the files on disk."""
    live = RunFolder.open(runs_dir, run_id).read_run().status in ("starting", "running")
    deadline = time.monotonic() + (LANDING_WAIT_S if live else 0.0)
    while True:
        try:
            return iteration_detail(runs_dir, run_id, attempt, iteration, link)
        except BadRequest:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.02)

"""verify and run_attempt's checking step: sentinel + metrics vs a reference + optional VLM critique.

Images are given as {view: image} where an image is a path (under the vision server's allowed
roots), base64 or a data URL; the vision server validates them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from gateway.errors import BadRequest, GatewayError
from gateway.vision_client import VisionClient
from harness.report import ExecutionReport
from harness.scene_types import RenderPackResult, SceneInfo
from harness.vision_types import CompareResult, SentinelReport, VerifierOutput

__all__ = ["Verification", "AttemptResult", "verify_images", "attempt_feedback"]


class Verification(BaseModel):
    sentinel: SentinelReport | None = None
    compare: CompareResult | None = Field(None, description="metrics against the reference, when one was given")
    critique: VerifierOutput | None = Field(None, description="VLM critique, when a verifier model is configured")
    score: float | None = Field(None, description="compare score if a reference was given, else the critique's")
    passed: bool = Field(description="no sentinel error and nothing failed")
    notes: list[str] = Field(default_factory=list, description="steps skipped or failed, and why")
    feedback: str = Field("", description="what to fix, in words a builder can act on")


class AttemptResult(BaseModel):
    scene_id: str
    report: ExecutionReport
    render: RenderPackResult | None = None
    verification: Verification | None = None
    feedback: str


async def verify_images(
    vision: VisionClient | None,
    images: dict[str, str | Path],
    task: str,
    reference: dict[str, str | Path] | None,
    scene_info: SceneInfo | None,
    critique: bool,
) -> Verification:
    if vision is None:
        raise BadRequest("verification needs the vision server, which is disabled in [vision]")
    if not images:
        raise BadRequest("nothing to verify: give scene_id (its latest renders are used) or images {view: path}")
    notes: list[str] = []
    checked = await vision.check(images, reference, scene_info)  # type: ignore[arg-type]
    sentinel, compare = checked.sentinel, checked.compare
    review = None
    if critique and task:
        try:
            review = await vision.critique(images, task, reference)  # type: ignore[arg-type]
        except GatewayError:
            raise
        except Exception as e:  # noqa: BLE001 - a failed critique is reported, metrics still count
            notes.append(f"critique failed: {e}")
    elif not critique:
        notes.append("critique skipped: no verifier model configured ([models] verifier)")
    else:
        notes.append("critique skipped: no task given to judge against")
    score = compare.score if compare else (review.overall_score if review else None)
    result = Verification(sentinel=sentinel, compare=compare, critique=review, score=score,
                          passed=sentinel.passed, notes=notes)
    result.feedback = _feedback(result)
    return result


def _feedback(v: Verification) -> str:
    lines = []
    if v.sentinel:
        for issue in v.sentinel.issues:
            hint = f" (try {issue.suggested_tool})" if issue.suggested_tool else ""
            where = f" [{issue.view}]" if issue.view else ""
            lines.append(f"{issue.severity}{where}: {issue.message}{hint}")
    if v.compare:
        worst = sorted(v.compare.views.items(), key=lambda kv: kv[1].score)[:2]
        lines.append(f"match with reference: {v.compare.score:.3f}"
                     + "".join(f"; {view} {m.score:.3f} (silhouette IoU {m.silhouette_iou:.2f})" for view, m in worst))
        lines += [f"against the reference, {d}" for d in v.compare.directions]
    if v.critique:
        lines += [f"issue: {i}" for i in v.critique.issues] + [f"suggestion: {s}" for s in v.critique.suggestions]
    return "\n".join(lines) or "No problems found."


def attempt_feedback(report: ExecutionReport, verification: Verification | None) -> str:
    if not report.success:
        return "The code failed; nothing was rendered.\n" + report.feedback()
    return report.feedback() + ("\n" + verification.feedback if verification else "")

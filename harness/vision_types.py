"""What the vision server says about renders, as data every layer can read.

The viewport-vision server produces these; the gateway forwards them, the coordinator scores
with them and writes them into run artifacts. Only data: nothing here imports OpenCV or litellm.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "Severity",
    "SentinelIssue",
    "ViewStats",
    "SentinelReport",
    "ViewMetrics",
    "CompareResult",
    "CheckResult",
    "COMBINED_WEIGHTS",
    "VerifierScores",
    "VerifierOutput",
    "CallLog",
]

Severity = Literal["info", "warning", "error"]


class SentinelIssue(BaseModel):
    """One gross failure found without a model, with the tool a builder should reach for (VIS-06)."""

    category: str = Field(description="e.g. blank, clipped, too_small, off_centre, too_dark, overexposed, "
                                      "floating, below_ground, absurd_scale, non_manifold, missing_material")
    severity: Severity
    message: str
    view: str | None = Field(None, description="view the issue was seen in; None for scene-level issues")
    object_name: str | None = Field(None, description="object the issue concerns, when known")
    value: float | None = Field(None, description="the measured value")
    threshold: float | None = Field(None, description="the threshold the value crossed")
    suggested_tool: str | None = Field(None, description="corrective tool, e.g. transform_to_floor")
    suggested_args: dict[str, object] = Field(default_factory=dict)


class ViewStats(BaseModel):
    """Measurements of one view that the checks were based on."""

    width: int
    height: int
    mean_luma: float = Field(description="mean luminance in [0,1]")
    std_luma: float
    dark_fraction: float = Field(description="fraction of pixels with luma < 0.05")
    bright_fraction: float = Field(description="fraction of pixels with luma > 0.95")
    background_rgb: tuple[float, float, float] = Field(description="estimated from the border, in [0,1]")
    coverage: float = Field(description="fraction of the frame covered by the subject silhouette")
    bbox: tuple[int, int, int, int] | None = Field(None, description="subject bbox (x0, y0, x1, y1), pixels, exclusive end")
    centre_offset: float | None = Field(None, description="distance of the subject centre from the frame centre / half diagonal")
    touches_border: list[str] = Field(default_factory=list, description="frame edges the subject touches: left, right, top, bottom")
    subject_luma: float | None = Field(None, description="mean luma of the subject pixels, in [0,1]")
    subject_bright_fraction: float | None = Field(None, description="share of subject pixels with luma > 0.98")
    floor_gap: float | None = Field(None, description="sky between a subject part touching no floor and the floor "
                                                      "below it, share of the frame height; None when not seen")


class SentinelReport(BaseModel):
    issues: list[SentinelIssue] = Field(default_factory=list)
    views: dict[str, ViewStats] = Field(default_factory=dict)
    passed: bool = Field(description="True when no issue has severity 'error'")
    elapsed_ms: float = 0.0


COMBINED_WEIGHTS: dict[str, float] = {"pixel": 0.2, "ssim": 0.2, "silhouette_iou": 0.3, "edge": 0.2, "phash": 0.1}
"""Weights of the combined score; they sum to 1. See ViewMetrics.score."""


class ViewMetrics(BaseModel):
    """One render against its reference.

    score = 0.2·exp(−pixel_loss/0.02) + 0.2·max(0, ssim) + 0.3·silhouette_iou
          + 0.2·exp(−edge_distance/0.05) + 0.1·max(0, 1 − phash_distance/32),
    so identical images score 1.0, each term is in [0,1], and the edge term keeps falling as a
    shape moves further away after the silhouettes no longer overlap.
    """

    pixel_loss: float = Field(description="mean squared error over RGB in [0,1] (BlenderGym definition)")
    ssim: float = Field(description="mean SSIM of the grey images, in [-1,1]")
    silhouette_iou: float = Field(description="IoU of the foreground masks (background estimated from the border)")
    edge_distance: float = Field(description="symmetric chamfer distance between Canny edge maps / image diagonal")
    phash_distance: int = Field(description="Hamming distance of 64-bit DCT perceptual hashes, 0..64")
    score: float = Field(description="combined score in [0,1], weights in COMBINED_WEIGHTS")
    resized_reference: bool = Field(False, description="the reference was resized to the render's size")


class CompareResult(BaseModel):
    views: dict[str, ViewMetrics]
    mean: ViewMetrics = Field(description="per-metric mean over the views")
    score: float = Field(description="combined score in [0,1] (mean of the per-view scores)")
    missing_references: list[str] = Field(default_factory=list, description="rendered views without a reference (not scored)")
    elapsed_ms: float = 0.0


class CheckResult(BaseModel):
    """Sentinel and, when references were given, compare of one set of renders: what the loop
    needs every iteration, in one call that decodes and segments each render once."""

    sentinel: SentinelReport
    compare: CompareResult | None = Field(None, description="metrics against the references, when given")


class VerifierScores(BaseModel):
    composition: float = Field(ge=0.0, le=1.0)
    lighting: float = Field(ge=0.0, le=1.0)
    materials: float = Field(ge=0.0, le=1.0)
    goal_match: float = Field(ge=0.0, le=1.0)


class CallLog(BaseModel):
    """One model call through a role's fallback chain: who answered, what it cost."""

    role: str
    model: str | None = Field(None, description="model string that served the answer; None when every model failed")
    chain: list[str] = Field(default_factory=list, description="the role's fallback chain in order")
    fallbacks_taken: int = Field(0, description="models tried before the one that served")
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: float = 0.0
    cost_usd: float | None = None
    attempts: int = Field(1, description="requests sent, including parse retries")
    errors: list[str] = Field(default_factory=list, description="errors met on the way (failed models, parse errors)")
    structured_output: bool = Field(False, description="a JSON-schema response_format was sent")


class VerifierOutput(BaseModel):
    """The VLM critique (§3.4.3), plus how it was obtained."""

    overall_score: float = Field(ge=0.0, le=1.0)
    is_complete: bool
    scores: VerifierScores
    issues: list[str] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list)
    positive_aspects: list[str] = Field(default_factory=list)
    calls: list[CallLog] = Field(default_factory=list, description="model calls that produced this critique")
    raw_replies: list[str] = Field(default_factory=list, description="the model's replies as received (for verifier_raw.txt)")

    def to_dict(self) -> dict[str, object]:
        return self.model_dump(mode="json")

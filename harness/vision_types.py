"""What the vision server says about renders, as data every layer can read.

The viewport-vision server produces these; the gateway forwards them, the coordinator scores
with them and writes them into run artifacts. Only data: nothing here imports OpenCV or litellm.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from harness.residuals import ViewResiduals

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
    "LookRequest",
    "Look",
    "CritiqueTurn",
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


COMBINED_WEIGHTS: dict[str, float] = {"pixel": 0.35, "ssim": 0.2, "silhouette_iou": 0.1, "edge": 0.15, "phash": 0.05,
                                     "colour": 0.15}
"""Weights of the combined score; they sum to 1. See ViewMetrics.score for why they are what they are."""


class ViewMetrics(BaseModel):
    """One render against its reference.

    score = Σ weight·term over COMBINED_WEIGHTS, each term in [0,1] and 1 for identical images:
    pixel exp(−pixel_loss/0.02), ssim max(0, ssim), silhouette_iou, edge exp(−edge_distance/0.05),
    phash max(0, 1 − phash_distance/32), colour exp(−ΔE2000/10) of the subjects' mean colours.

    Why these weights (measured on 120 random-parameter renders of the three example tasks, the
    score's rank correlation with pixel loss per task; bench/loop.py reports it as
    `score_rank_correlation`): pixel loss is the ground truth a person would accept, and SSIM
    ranks almost like it (ρ 0.94 alone), so they carry 0.55. Silhouette IoU alone ranks poorly
    (ρ 0.3: a huge box covering the reference keeps a fair IoU) and pHash too (ρ 0.3–0.7), so they
    were cut to 0.1 and 0.05; the edge term stays at 0.15 because it keeps falling after the
    silhouettes stop overlapping, which gives the score a slope far from the answer. Colour gets
    0.15 of its own because every grey-level term is nearly blind to hue: a pink block where a
    red one belongs (ΔE 20) now loses ≥ 0.13 on colour alone, so it cannot pass on shape. With
    the old weights (0.2/0.2/0.3/0.2/0.1, no colour) ρ was 0.85–0.86; with these 0.85–0.96.
    """

    pixel_loss: float = Field(description="mean squared error over RGB in [0,1] (BlenderGym definition)")
    ssim: float = Field(description="mean SSIM of the grey images, in [-1,1]")
    silhouette_iou: float = Field(description="IoU of the foreground masks (background estimated from the border)")
    edge_distance: float = Field(description="symmetric chamfer distance between Canny edge maps / image diagonal")
    phash_distance: int = Field(description="Hamming distance of 64-bit DCT perceptual hashes, 0..64")
    colour_delta_e: float | None = Field(None, description="CIEDE2000 between the subjects' mean colours; None when "
                                                           "either image shows no subject")
    score: float = Field(description="combined score in [0,1], weights in COMBINED_WEIGHTS")
    resized_reference: bool = Field(False, description="the reference was resized to the render's size")
    pixel_loss_grid: list[float] = Field(default_factory=list, description="pixel loss per cell of a 3×3 grid over the "
                                                                           "image, rows top to bottom: where the loss is")
    residuals: ViewResiduals | None = Field(None, description="signed residuals render − reference (VIS-05); "
                                                              "None in a mean over views")
    subject_masks: str | None = Field(None, description="what was measured, as a PNG data URL: the render's subject "
                                                        "green, the reference's red, both yellow")


class CompareResult(BaseModel):
    views: dict[str, ViewMetrics]
    mean: ViewMetrics = Field(description="per-metric mean over the views")
    score: float = Field(description="combined score in [0,1] (mean of the per-view scores)")
    missing_references: list[str] = Field(default_factory=list, description="rendered views without a reference (not scored)")
    directions: list[str] = Field(default_factory=list, description="per view, which way the render differs from the "
                                                                    "reference, in words computed from the residuals")
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
    retries: int = Field(0, description="requests litellm's Router retried (backoff, Retry-After) along the chain")
    errors: list[str] = Field(default_factory=list, description="errors met on the way (failed models, parse errors)")
    structured_output: bool = Field(False, description="a JSON-schema response_format was sent")
    reasoning: str | None = Field(None, description="the model's thinking, sent apart from its reply (reasoning_content)")
    prompt_tokens_counted: int | None = Field(None, description="the prompt as counted before sending, for a model "
                                                                "with a context limit")


class LookRequest(BaseModel):
    """An extra look the verifier asks for before it judges (the camera pack itself stays fixed)."""

    kind: Literal["orbit", "closeup", "isolate"] = Field(description="orbit: the scene from another angle; closeup: "
                                                         "one object filling the frame; isolate: one object alone")
    view: Literal["front", "side", "top", "iso", "back", "left"] = Field("iso", description="the view it starts from")
    object: str | None = Field(None, max_length=63, description="closeup / isolate: the object's name")
    azimuth: float = Field(0.0, ge=-180, le=180, description="orbit: degrees to turn about the vertical axis")
    elevation: float = Field(0.0, ge=-80, le=80, description="orbit: degrees to raise the camera")
    reason: str = Field("", max_length=500, description="what the look should settle")


class Look(BaseModel):
    """A look taken: the PNG, or why it could not be rendered (e.g. no such object)."""

    request: LookRequest
    image: str | None = Field(None, description="path of the PNG")
    error: str | None = None


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
    looks: list[Look] = Field(default_factory=list, description="extra looks the verifier took before judging")

    def to_dict(self) -> dict[str, object]:
        return self.model_dump(mode="json")


class CritiqueTurn(BaseModel):
    """One turn of an investigating critique: the verdict, or the looks wanted first (ask again with them taken)."""

    verdict: VerifierOutput | None = None
    looks: list[LookRequest] = Field(default_factory=list)
    calls: list[CallLog] = Field(default_factory=list, description="model calls of a turn that asked for looks")

"""The viewport-vision MCP server: thin tools over the in-process functions.

`sentinel`, `compare` and `phash` are CPU work on small images: sync tools, so fastmcp runs them
in a worker thread and the event loop stays free. `critique` awaits a model over HTTP. The logic
lives in sentinel.py, metrics.py, phash.py and critique.py; a gateway that wants speed calls
`VisionCore` directly, with no copy of that logic.

Errors cross MCP as `[TAG] message` (see errors.py); anything else is masked.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated

from fastmcp import FastMCP
from pydantic import BaseModel, Field, WithJsonSchema

from harness.model_choice import with_models
from harness.blueprint_types import Blueprint, BlueprintReport
from harness.model_config import ModelsConfig
from harness.model_roles import ModelRoles
from harness.scene_types import SceneInfo
from harness.vision_types import CheckResult, CompareResult, CritiqueTurn, Look, SentinelReport, VerifierOutput
from servers.viewport_vision.blueprint import measure_blueprint
from servers.viewport_vision.critique import critique as run_critique
from servers.viewport_vision.critique import investigate as run_investigate
from servers.viewport_vision.errors import BadImageError
from servers.viewport_vision.images import ImageInput, ImageLimits, ImageLoader, LoadedImage
from servers.viewport_vision.metrics import compare_views
from servers.viewport_vision.phash import phash_hex
from servers.viewport_vision.sentinel import SentinelThresholds, sentinel_check

__all__ = ["VisionCore", "PhashResult", "create_server", "MAX_VIEWS"]

MAX_VIEWS = 16
_VIEW_POOL = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="view")  # threads start on first use

INSTRUCTIONS = (
    "Looks at renders and never changes the scene. sentinel: fast gross-failure checks (blank, clipped, "
    "too small, dark, floating, ...) each with a suggested corrective tool. compare: metrics against "
    "reference images and one score in [0,1]. check: sentinel and compare in one call. critique: a VLM's "
    "structured judgement (needs a verifier model); investigate: the same in turns, asking for extra looks "
    "first. phash: perceptual hash for indexing renders. Images are {view: image}; an image is a path under the server's allowed roots, base64 PNG/JPEG, or a data URL."
)

Images = Annotated[dict[str, str], Field(description="view → image (path, base64 or data URL)")]
# Validated as the full models; listed as plain objects, since a caller passes them through rather than writes them
SceneFacts = Annotated[SceneInfo | None, WithJsonSchema({"type": ["object", "null"]}),
                       Field(description="the worker's get_scene_info result")]
Thresholds = Annotated[SentinelThresholds | None, WithJsonSchema({"type": ["object", "null"]}),
                       Field(description="override sentinel limits by name")]


class PhashResult(BaseModel):
    phash: str = Field(description="64-bit DCT perceptual hash, 16 hex digits")
    width: int
    height: int


class VisionCore:
    """The server's functions with their inputs loaded and checked; usable in-process.

    Views are independent, and OpenCV and numpy release the GIL: each call decodes and analyses
    its views on a small thread pool, one view per core.
    """

    def __init__(self, loader: ImageLoader | None = None, roles: ModelRoles | None = None) -> None:
        self.loader = loader or ImageLoader()
        self.roles = roles
        self._chains: dict[tuple[str, ...], ModelRoles] = {}  # a run's own verifier chain → its roles
        self._map = _VIEW_POOL.map

    def sentinel(
        self, images: dict[str, ImageInput], scene_info: SceneInfo | None = None,
        thresholds: SentinelThresholds | None = None,
    ) -> SentinelReport:
        return sentinel_check(self._views(images, "images"), scene_info, thresholds, self._map)

    def compare(self, renders: dict[str, ImageInput], references: dict[str, ImageInput]) -> CompareResult:
        return compare_views(self._views(renders, "renders"), self._views(references, "references"), map_views=self._map)

    def check(
        self, renders: dict[str, ImageInput], references: dict[str, ImageInput] | None = None,
        scene_info: SceneInfo | None = None, thresholds: SentinelThresholds | None = None,
    ) -> CheckResult:
        loaded = self._views(renders, "renders")
        compared = compare_views(loaded, self._views(references, "references"), map_views=self._map) if references else None
        return CheckResult(sentinel=sentinel_check(loaded, scene_info, thresholds, self._map), compare=compared)

    async def critique(
        self, images: dict[str, ImageInput], task: str, reference: dict[str, ImageInput] | None = None,
        rubric: str | None = None,
    ) -> VerifierOutput:
        refs = self._views(reference, "reference") if reference else None
        return await run_critique(self.roles, self._views(images, "images"), task, refs, rubric)

    async def investigate(
        self, images: dict[str, ImageInput], task: str, reference: dict[str, ImageInput] | None = None,
        looks: list[Look] | None = None, max_looks: int = 0, models: list[str] | None = None,
    ) -> CritiqueTurn:
        refs = self._views(reference, "reference") if reference else None
        loaded = [(look, self.loader.load(look.image, f"looks[{i}]") if look.image else None)
                  for i, look in enumerate(looks or [])]
        return await run_investigate(self._roles_for(models), self._views(images, "images"), task, refs, None, loaded,
                                     max_looks)

    def _roles_for(self, models: list[str] | None) -> ModelRoles | None:
        """The server's roles, or (a run naming its verifier chain) the same config with that chain, kept per chain."""
        if not models or self.roles is None:
            return self.roles
        key = tuple(models)
        if key not in self._chains:
            self._chains[key] = ModelRoles(with_models(self.roles.config, {"verifier": list(models)}))
        return self._chains[key]

    def blueprint(self, renders: dict[str, ImageInput], blueprint: Blueprint) -> BlueprintReport:
        for name, view in blueprint.views.items():
            self.loader.resolve(str(view.image), f"blueprint.{name}")
        return measure_blueprint(blueprint, self._views(renders, "renders"))

    def phash(self, image: ImageInput) -> PhashResult:
        loaded = self.loader.load(image, "image")
        return PhashResult(phash=phash_hex(loaded.rgb), width=loaded.width, height=loaded.height)

    def _views(self, images: dict[str, ImageInput], what: str) -> dict[str, LoadedImage]:
        if len(images) > MAX_VIEWS:
            raise BadImageError(f"{what}: {len(images)} images, at most {MAX_VIEWS} per call")
        return self.loader.load_views(images, what, self._map)


def create_server(
    allowed_roots: list[Path] | None = None,
    models: ModelsConfig | None = None,
    limits: ImageLimits | None = None,
) -> FastMCP:
    """`models` None: no verifier (critique reports [NO_VERIFIER]); load it with ModelsConfig.load()."""
    core = VisionCore(ImageLoader(allowed_roots, limits), ModelRoles(models) if models is not None else None)
    mcp = FastMCP("colossus-vision", instructions=INSTRUCTIONS, mask_error_details=True)

    # Reports carry structured content without an output schema: their nested models would cost a host
    # thousands of tokens per tools/list, and no client reads them from the schema.
    @mcp.tool(annotations={"readOnlyHint": True}, timeout=60, output_schema=None)
    def sentinel(images: Images, scene_info: SceneFacts = None, thresholds: Thresholds = None) -> SentinelReport:
        """Gross-failure checks without a model (blank, clipped, too small, off-centre, dark; with scene_info also
        floating, scale, materials), each issue with its measured value and a suggested corrective tool."""
        return core.sentinel(images, scene_info, thresholds)

    @mcp.tool(annotations={"readOnlyHint": True}, timeout=60, output_schema=None)
    def compare(renders: Images, references: Annotated[dict[str, str], Field(description="view → reference image")]) -> CompareResult:
        """Metrics of renders against reference images per view (pixel loss, SSIM, silhouette IoU, edges, colour)
        and one combined score in [0,1]."""
        return core.compare(renders, references)

    @mcp.tool(annotations={"readOnlyHint": True}, timeout=60, output_schema=None)
    def check(
        renders: Images,
        references: Annotated[dict[str, str] | None, Field(description="view → reference image")] = None,
        scene_info: SceneFacts = None,
        thresholds: Thresholds = None,
    ) -> CheckResult:
        """sentinel and compare in one call (each render decoded once); compare is null without references."""
        return core.check(renders, references, scene_info, thresholds)

    @mcp.tool(annotations={"readOnlyHint": True, "openWorldHint": True}, timeout=300, output_schema=None)
    async def critique(
        images: Images,
        task: Annotated[str, Field(min_length=1, max_length=20000, description="what the scene should show")],
        reference: Annotated[dict[str, str] | None, Field(description="view → reference image")] = None,
        rubric: Annotated[str | None, Field(max_length=5000, description="what to score")] = None,
    ) -> VerifierOutput:
        """The verifier VLM's judgement of the renders against the task: overall score, issues, suggestions
        (needs a verifier model)."""
        return await core.critique(images, task, reference, rubric)

    @mcp.tool(annotations={"readOnlyHint": True, "openWorldHint": True}, timeout=300, output_schema=None)
    async def investigate(
        images: Images,
        task: Annotated[str, Field(min_length=1, max_length=20000, description="what the scene should show")],
        reference: Annotated[dict[str, str] | None, Field(description="view → reference image")] = None,
        looks: Annotated[list[Look] | None, Field(max_length=MAX_VIEWS, description="extra looks taken so far, in order")] = None,
        max_looks: Annotated[int, Field(ge=0, le=8, description="extra looks the verifier may still ask for")] = 2,
        models: Annotated[list[str] | None, Field(max_length=8, description="a run's own verifier chain (models "
                                                                           "configured here); default: [models] verifier")] = None,
    ) -> CritiqueTurn:
        """critique in turns: the verifier may first ask for extra looks; render them and call again with them
        in `looks` until the turn carries a verdict."""
        return await core.investigate(images, task, reference, looks, max_looks, models)

    @mcp.tool(annotations={"readOnlyHint": True}, timeout=60, output_schema=None)
    def blueprint(
        renders: Images,
        blueprint: Annotated[Blueprint, Field(description="the task's blueprint: span_m, stations, drawings by view")],
    ) -> BlueprintReport:
        """Orthographic plan renders against their drawings, in metres: sizes, profiles at stations, IoU, a
        colour-free score and directions."""
        return core.blueprint(renders, blueprint)

    @mcp.tool(annotations={"readOnlyHint": True}, timeout=30)
    def phash(image: Annotated[str, Field(description="path, base64 or data URL")]) -> PhashResult:
        """64-bit perceptual hash of an image; similar images differ in few bits."""
        return core.phash(image)

    return mcp

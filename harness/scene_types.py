"""Scene facts and render-pack types shared by the worker, the vision server, the gateway and the coordinator.

Only data: nothing here imports Blender, so a type never drags Blender into another process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from harness.measure_types import SceneMeasure
from harness.gpu_presets import CyclesDevice, Tier
from harness.blueprint_types import PlanCamera
from harness.report import ExecutionReport

__all__ = [
    "SNIPPET_TOOLS",
    "VIEW_NAMES",
    "ViewName",
    "Preset",
    "Framing",
    "MeshStats",
    "ObjectSummary",
    "SceneInfo",
    "RenderSettings",
    "ExecutedRender",
    "RenderedView",
    "RenderPackResult",
]

ViewName = Literal["front", "side", "top", "iso", "back", "left"]
VIEW_NAMES: tuple[str, ...] = ("front", "side", "top", "iso", "back", "left")
Preset = Literal["preview", "final"]
Framing = Literal["fixed", "auto"]

Vec3 = tuple[float, float, float]

# the worker tools a program may call as `tools.<name>(...)` (servers/blender_primary/snippet_tools.py)
SNIPPET_TOOLS: tuple[str, ...] = (
    "transform_to_floor", "normalize_scale", "apply_transforms",
    "gn_create_modifier", "gn_add_node", "gn_link", "gn_remove_node", "gn_set_input", "gn_set_node_property",
    "gn_add_group_input", "gn_describe",
)


class MeshStats(BaseModel):
    verts: int
    edges: int
    faces: int
    non_manifold_edges: int


class ObjectSummary(BaseModel):
    name: str
    type: str
    location: Vec3
    rotation_euler: Vec3
    scale: Vec3
    dimensions: Vec3
    bbox_min: Vec3 = Field(description="world-space bounding box corner (min x, y, z)")
    bbox_max: Vec3
    mesh: MeshStats | None = None
    materials: list[str] = Field(default_factory=list)
    modifiers: list[str] = Field(default_factory=list)
    parent: str | None = None
    collection: str | None = None
    visible: bool = True


class SceneInfo(BaseModel):
    scene: str
    unit_system: str
    unit_scale: float
    camera: str | None
    render_engine: str
    frame: int
    objects: list[ObjectSummary]
    totals: dict[str, int] = Field(default_factory=dict, description="objects, meshes, verts, faces, materials")


class RenderSettings(BaseModel):
    """How to render a camera pack; the task's [render] table maps onto this."""

    views: list[ViewName] = Field(default_factory=lambda: ["front", "side", "top", "iso"])
    preset: Preset = "preview"
    resolution: int = Field(256, ge=16, le=4096)
    framing: Framing = "fixed"
    target: Vec3 = (0.0, 0.0, 0.5)
    distance: float = Field(6.0, gt=0)
    lens: float = Field(50.0, gt=1)
    samples: int | None = Field(None, ge=1, le=4096, description="Cycles samples for `final`; when None: 32 on CPU, by "
                                                                 "VRAM and tier on a GPU (32-512)")
    tier: Tier | None = Field(None, description="Cycles sample tier on a GPU (harness.gpu_presets): preview, production "
                                                "or final; None: final, except in the loop, which renders at preview")
    orbit: tuple[float, float] | None = Field(None, description="turn every view about the target by (azimuth, elevation) "
                                                               "degrees: a look from an angle between the named views")
    focus_objects: list[str] | None = Field(None, max_length=64, description="with framing `auto`: fit only these objects "
                                                                             "(a close-up)")
    subject: list[str] | None = Field(None, max_length=64, description="the objects measured as the subject (task "
                                                                       "[measure] objects); default: what the program made, "
                                                                       "less a ground plane")
    hide_subject: bool = Field(False, description="render without the subject objects: the scene's own background")
    isolate: bool = Field(False, description="render only the focus_objects (lights kept); the scene is unchanged afterwards")
    plans: list[PlanCamera] = Field(default_factory=list, description="orthographic views matching blueprints, "
                                                                      "rendered after the views as plan_<view>.png (RGBA)")


class RenderedView(BaseModel):
    view: str
    path: str
    width: int
    height: int
    render_ms: float


class RenderPackResult(BaseModel):
    settings: RenderSettings
    views: dict[str, RenderedView]
    total_ms: float
    added_for_render: list[str] = Field(default_factory=list, description="camera/light provided for the render only, removed afterwards")
    scene: SceneInfo | None = Field(None, description="the scene's facts as rendered, when asked for (saves a get_scene_info round trip)")
    measure: SceneMeasure | None = Field(None, description="the subject measured from the scene per view (masks beside "
                                                           "the PNGs as <view>.mask.png)")
    cycles: CyclesDevice | None = Field(None, description="the device, samples and tile size Cycles rendered with "
                                                          "(None: Workbench)")


class ExecutedRender(BaseModel):
    """A program's report and, only when it ran cleanly, the camera pack of the scene it built."""

    report: ExecutionReport
    render: RenderPackResult | None = Field(None, description="absent when the code failed or the render did")
    render_error: str | None = Field(None, description="why the render failed after the code succeeded ([TAG] message)")

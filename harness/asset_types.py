"""What the asset-finalization worker tools return, shared with the pipeline that sequences them.

Only data: nothing here imports Blender, so the orchestrator reads a stage's result without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.scene_types import ObjectSummary

__all__ = [
    "SOURCE_SUFFIXES",
    "source_file_problem",
    "BakeMap",
    "Origin",
    "UVMethod",
    "FbxSettings",
    "GltfSettings",
    "ImportedAsset",
    "CleanedMesh",
    "UVReport",
    "BakedMaps",
    "DecimatedMesh",
    "ExportedFiles",
    "MeshFacts",
    "Inspection",
    "LodRenders",
]

SOURCE_SUFFIXES: tuple[str, ...] = (".blend", ".obj", ".fbx", ".glb", ".gltf", ".stl", ".ply")


def source_file_problem(path: Path) -> str | None:
    """Why `path` cannot be imported as a source file (format, missing, not a regular file, empty), or None.
    Checked by the CLI before any worker starts, and again by the worker for hosts calling it directly."""
    if path.suffix.lower() not in SOURCE_SUFFIXES:
        return f"{path.name}: unsupported format; use one of {', '.join(SOURCE_SUFFIXES)}"
    if not path.is_file():
        return f"{path} does not exist or is not a regular file"
    if path.stat().st_size == 0:
        return f"{path.name} is empty (0 bytes)"
    return None


BakeMap = Literal["base_color", "roughness", "metallic", "normal"]
Origin = Literal["base_center", "bounds_center", "keep"]
UVMethod = Literal["smart_project", "lightmap_pack"]
Vec3 = tuple[float, float, float]


class FbxSettings(BaseModel):
    """Blender FBX exporter options a profile may set (the exporter's own names and meanings)."""

    model_config = ConfigDict(extra="forbid")

    axis_forward: Literal["X", "Y", "Z", "-X", "-Y", "-Z"] = Field("-Z", description="engine's forward axis")
    axis_up: Literal["X", "Y", "Z", "-X", "-Y", "-Z"] = Field("Y", description="engine's up axis")
    global_scale: float = Field(1.0, gt=0, le=1000, description="multiplies every length written")
    apply_unit_scale: bool = Field(True, description="take Blender's unit scale into account (metres → FBX centimetres)")
    apply_scale_options: Literal["FBX_SCALE_NONE", "FBX_SCALE_UNITS", "FBX_SCALE_CUSTOM", "FBX_SCALE_ALL"] = Field(
        "FBX_SCALE_NONE", description="how scale is stored: FBX_SCALE_ALL bakes it so the engine sees scale 1")
    bake_space_transform: bool = Field(False, description="bake the axis conversion into the mesh (objects keep identity rotation)")
    mesh_smooth_type: Literal["OFF", "FACE", "EDGE"] = Field("FACE", description="FACE writes smoothing groups")


class GltfSettings(BaseModel):
    """Blender glTF exporter options a profile may set."""

    model_config = ConfigDict(extra="forbid")

    image_format: Literal["AUTO", "JPEG", "WEBP"] = Field("AUTO", description="embedded texture encoding; AUTO keeps PNG")


class ImportedAsset(BaseModel):
    objects: list[str] = Field(description="mesh objects in the scene after import (one when joined)")
    triangles: int
    dimensions: Vec3 = Field(description="world-space size of everything imported, metres")
    skipped: list[str] = Field(default_factory=list, description="non-mesh objects left out (cameras, lights, …)")


class CleanedMesh(BaseModel):
    object: str
    triangles: int
    removed_vertices: int
    non_manifold_edges: int
    dimensions: Vec3


class UVReport(BaseModel):
    object: str
    coverage: float = Field(description="share of the 0..1 square covered by UV faces")
    overlap: float = Field(description="share of the covered area covered more than once")
    inside_unit_square: bool
    uv_min: tuple[float, float]
    uv_max: tuple[float, float]
    texel_density_spread: float = Field(description="95th / 5th percentile of per-face texel density (1 = uniform)")


class BakedMaps(BaseModel):
    object: str
    textures: dict[str, str] = Field(description="map name → PNG path on the worker's disk")
    size: int
    elapsed_s: dict[str, float]


class DecimatedMesh(BaseModel):
    object: str
    triangles: int


class ExportedFiles(BaseModel):
    files: list[str] = Field(description="paths on the worker's disk, exports first")


class MeshFacts(BaseModel):
    summary: ObjectSummary = Field(description="transforms, world bounds, mesh stats (non-manifold edges) and materials")
    triangles: int
    ngons: int
    loose_vertices: int
    uv_layers: int
    uv: UVReport | None = Field(description="the active UV layer's coverage and overlap; None without UVs")
    textures: dict[str, tuple[int, int]] = Field(description="image name → (width, height) used by its materials")


class Inspection(BaseModel):
    meshes: list[MeshFacts]


class LodRenders(BaseModel):
    images: dict[str, str] = Field(description="LOD object name → PNG path on the worker's disk")

"""Finalize profiles: what an engine expects of an asset, as validated TOML.

A profile is looked up by name, first in the user's folder (`[finalize] profiles_dir` in
colossus.toml, relative to that file) and then among the profiles shipped in
`shipped_profiles/` beside this module, so a user can add profiles or shadow a shipped one. Every key is a
field below with its meaning; an unknown key, a texture size that is not a power of two, or LOD
budgets that cannot be met (not strictly decreasing, fewer than 4 triangles) are errors that name
the file and the key, before any Blender work starts.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.asset_types import BakeMap, FbxSettings, GltfSettings, Origin, UVMethod
from orchestrator.errors import ProfileError

__all__ = ["MIN_TRIANGLES", "Profile", "FinalizeConfig", "finalize_config", "load_profile", "profile_names"]

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MIN_TRIANGLES = 4  # a tetrahedron: no closed mesh has fewer


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Cleanup(_Section):
    merge_distance: float = Field(1e-4, ge=0, le=1, description="merge vertices closer than this, metres")
    fill_holes_sides: int = Field(8, ge=0, le=1000, description="fill boundary holes up to this many sides; 0 never")
    triangulate: bool = Field(True, description="triangulate every face (engines draw triangles)")
    origin: Origin = Field("base_center", description="base_center (stands on its origin), bounds_center or keep")


class UV(_Section):
    method: UVMethod = "smart_project"
    angle_limit_deg: float = Field(66.0, gt=0, le=89, description="smart_project: angle that splits islands")
    margin_px: int = Field(4, ge=0, le=64, description="island gap in texels at textures.size (bleeding guard)")


class Textures(_Section):
    size: int = Field(1024, ge=16, le=8192, description="width = height of every baked map, a power of two")
    maps: list[BakeMap] = Field(default_factory=lambda: ["base_color", "roughness", "metallic", "normal"], min_length=1)
    samples: int = Field(1, ge=1, le=1024, description="Cycles samples per texel")
    cage_extrusion: float = Field(0.02, gt=0, le=1, description="ray start above the low mesh, fraction of its largest size")
    materials_per_lod: int = Field(1, ge=1, le=16, description="most materials a LOD may carry")

    @field_validator("size")
    @classmethod
    def _power_of_two(cls, size: int) -> int:
        if size & (size - 1):
            raise ValueError(f"{size} is not a power of two")
        return size


class Lods(_Section):
    triangles: list[int] = Field(min_length=1, max_length=8, description="triangle budget of LOD0, LOD1, …")
    ratios: list[float] | None = Field(None, description="optional: LOD i gets at most ratios[i] × LOD0's triangles too")

    @model_validator(mode="after")
    def _reachable(self) -> Lods:
        if min(self.triangles) < MIN_TRIANGLES:
            raise ValueError(f"a budget of {min(self.triangles)} triangles is impossible (at least {MIN_TRIANGLES})")
        if any(b >= a for a, b in zip(self.triangles, self.triangles[1:])):
            raise ValueError(f"budgets {self.triangles} must strictly decrease from LOD0")
        if self.ratios is not None and (len(self.ratios) != len(self.triangles) or
                                        any(not 0 < r <= 1 for r in self.ratios) or
                                        any(b >= a for a, b in zip(self.ratios, self.ratios[1:]))):
            raise ValueError("ratios must have one entry per LOD, in (0, 1], strictly decreasing")
        return self


class Export(_Section):
    format: Literal["fbx", "glb"]
    prefix: str = Field("", pattern=r"^[A-Za-z0-9_]{0,16}$", description="prepended to every name, e.g. SM_")
    lod_suffix: str = Field("_LOD", pattern=r"^[A-Za-z0-9_-]{1,8}$", description="LOD i is <prefix><name><lod_suffix><i>")
    lod_group: bool = Field(False, description="parent the LODs to an empty <prefix><name> (Unity/Unreal LOD group)")
    split_lods: bool = Field(False, description="one file per LOD instead of one file with all")
    fbx: FbxSettings = Field(default_factory=FbxSettings)
    gltf: GltfSettings = Field(default_factory=GltfSettings)


class Validation(_Section):
    max_uv_overlap: float = Field(0.01, ge=0, le=1, description="largest share of UV-covered texels used twice")
    require_manifold: bool = Field(False, description="non-manifold edges fail the verdict (else reported only)")
    max_texel_density_spread: float | None = Field(None, gt=1, description="fail above this 95/5 percentile ratio")
    round_trip_tolerance: float = Field(0.01, gt=0, le=0.5, description="relative size change allowed on re-import")


class Profile(_Section):
    name: str
    description: str = ""
    max_source_triangles: int = Field(2_000_000, ge=MIN_TRIANGLES, description="refuse larger sources up front")
    cleanup: Cleanup = Field(default_factory=Cleanup)
    uv: UV = Field(default_factory=UV)
    textures: Textures = Field(default_factory=Textures)
    lods: Lods
    export: Export
    validation: Validation = Field(default_factory=Validation)

    def lod_name(self, asset: str, index: int) -> str:
        return f"{self.export.prefix}{asset}{self.export.lod_suffix}{index}"


class FinalizeConfig(_Section):
    """colossus.toml's [finalize] table."""

    profiles_dir: Path | None = Field(None, description="folder of the user's <name>.toml profiles")


def finalize_config(raw: dict[str, Any], config_file: Path | None) -> FinalizeConfig:
    """The [finalize] table of a parsed colossus.toml; a relative profiles_dir is taken from the file's folder."""
    try:
        config = FinalizeConfig.model_validate(raw.get("finalize", {}))
    except ValidationError as e:
        raise ProfileError(f"invalid [finalize] table in {config_file or 'colossus.toml'}: {_errors(e)}") from e
    if config.profiles_dir is not None and not config.profiles_dir.is_absolute() and config_file is not None:
        config.profiles_dir = config_file.parent / config.profiles_dir
    return config


def _errors(e: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'profile'}: "
        + ("unknown key" if err["type"] == "extra_forbidden" else err["msg"])
        for err in e.errors()
    )


def _shipped() -> dict[str, str]:
    folder = resources.files("orchestrator.assets") / "shipped_profiles"
    return {entry.name[:-5]: entry.read_text(encoding="utf-8") for entry in folder.iterdir() if entry.name.endswith(".toml")}


def _user(folder: Path | None) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder and folder.is_dir() else {}


def profile_names(user_dir: Path | None = None) -> list[str]:
    return sorted(set(_shipped()) | set(_user(user_dir)))


def load_profile(name: str, user_dir: Path | None = None) -> Profile:
    """The profile called `name` (user folder first); ProfileError says why it cannot be used."""
    if not NAME.fullmatch(name):
        raise ProfileError(f"profile name {name!r} is not allowed: use 1-64 of A-Z a-z 0-9 _ -")
    user, shipped = _user(user_dir), _shipped()
    if name in user:
        where, text = str(user[name]), user[name].read_text(encoding="utf-8")
    elif name in shipped:
        where, text = f"shipped profile {name}.toml", shipped[name]
    else:
        raise ProfileError(f"unknown profile {name!r}; available: {', '.join(profile_names(user_dir))}")
    try:
        table = tomllib.loads(text)
        if "name" in table:
            raise ProfileError(f"{where}: name: a profile is named by its file; remove the key")
        return Profile.model_validate({**table, "name": name})
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"{where} is not valid TOML: {e}") from e
    except ValidationError as e:
        raise ProfileError(f"{where}: {_errors(e)}") from e

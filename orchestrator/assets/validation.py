"""The verdict on a finalized asset: named checks over measured facts, each with pass/fail and why.

The worker measures (asset_inspect, on the LODs as built and on what a fresh worker re-imported
from the exported files); this module judges those numbers against the profile. A check is
`required` when the profile makes it so; the verdict is valid only when every required check
passes. Non-required checks (non-manifold edges on a profile that allows open meshes) are still
reported, so a user sees them.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from harness.asset_types import MeshFacts
from orchestrator.assets.profiles import Profile

__all__ = ["Check", "LodEntry", "Verdict", "judge"]

# fraction of the asset's size: decimation moves a LOD's bounds a little while every LOD keeps LOD0's pivot
ORIGIN_TOLERANCE = 0.02


class Check(BaseModel):
    name: str
    passed: bool
    required: bool = True
    detail: str = Field(description="why it passed or failed, with the numbers")


class LodEntry(BaseModel):
    name: str
    triangles: int


class Verdict(BaseModel):
    valid: bool
    profile: str
    lods: list[LodEntry]
    checks: list[Check]


def _check(name: str, passed: bool, detail: str, required: bool = True) -> Check:
    return Check(name=name, passed=bool(passed), required=required, detail=detail)


def _budgets(profile: Profile, lods: list[MeshFacts], budgets: list[int]) -> Iterator[Check]:
    yield _check("lod_count", len(lods) == len(profile.lods.triangles),
                 f"{len(lods)} LODs, the profile asks for {len(profile.lods.triangles)}")
    for facts, budget in zip(lods, budgets):
        yield _check(f"triangle_budget:{facts.summary.name}", facts.triangles <= budget,
                     f"{facts.triangles} triangles, budget {budget}")
    counts = [f.triangles for f in lods]
    decrease = all(b < a for a, b in zip(counts, counts[1:]))
    yield _check("lods_decrease", decrease, f"triangles per LOD: {counts}" + (
        "" if decrease else " (a source this small cannot be reduced that many times)"))


def _uvs(profile: Profile, facts: MeshFacts) -> Iterator[Check]:
    name, uv = facts.summary.name, facts.uv
    if uv is None:
        yield _check(f"uv:{name}", False, "no UV layer")
        return
    yield _check(f"uv_bounds:{name}", uv.inside_unit_square, f"UVs span {uv.uv_min}..{uv.uv_max}; must sit in 0..1")
    yield _check(f"uv_overlap:{name}", uv.overlap <= profile.validation.max_uv_overlap,
                 f"{uv.overlap:.2%} of covered texels overlap (limit {profile.validation.max_uv_overlap:.2%}), "
                 f"coverage {uv.coverage:.1%}")
    limit = profile.validation.max_texel_density_spread
    yield _check(f"texel_density:{name}", limit is None or uv.texel_density_spread <= limit,
                 f"95/5 percentile texel-density ratio {uv.texel_density_spread:.2f}" + (f" (limit {limit})" if limit else ""),
                 required=limit is not None)


def _topology(profile: Profile, facts: MeshFacts) -> Iterator[Check]:
    name, mesh = facts.summary.name, facts.summary.mesh
    non_manifold = mesh.non_manifold_edges if mesh else 0
    yield _check(f"non_manifold:{name}", non_manifold == 0, f"{non_manifold} non-manifold edges",
                 required=profile.validation.require_manifold)
    yield _check(f"loose_vertices:{name}", facts.loose_vertices == 0, f"{facts.loose_vertices} loose vertices")
    yield _check(f"ngons:{name}", facts.ngons == 0, f"{facts.ngons} faces with more than 4 sides",
                 required=profile.cleanup.triangulate)


def _placement(profile: Profile, facts: MeshFacts) -> Iterator[Check]:
    s = facts.summary
    applied = all(abs(v - 1) < 1e-6 for v in s.scale) and all(abs(v) < 1e-6 for v in s.rotation_euler)
    yield _check(f"transforms:{s.name}", applied, f"scale {s.scale}, rotation {s.rotation_euler}: must be 1 and 0")
    size = max(max(s.dimensions), 1e-9)
    centre = [(lo + hi) / 2 - o for lo, hi, o in zip(s.bbox_min, s.bbox_max, s.location)]
    expected = {"base_center": (centre[0], centre[1], s.bbox_min[2] - s.location[2]), "bounds_center": tuple(centre)}
    offset = expected.get(profile.cleanup.origin)
    yield _check(f"origin:{s.name}", offset is None or max(abs(v) for v in offset) <= ORIGIN_TOLERANCE * size,
                 f"origin {profile.cleanup.origin}: pivot offset {tuple(round(v, 6) for v in offset or ())}",
                 required=offset is not None)


def _naming(profile: Profile, asset: str, lods: list[MeshFacts]) -> Iterator[Check]:
    for index, facts in enumerate(lods):
        expected = profile.lod_name(asset, index)
        yield _check(f"naming:{facts.summary.name}", facts.summary.name == expected, f"expected {expected!r}")


def _materials(profile: Profile, facts: MeshFacts) -> Iterator[Check]:
    name, tex = facts.summary.name, profile.textures
    materials = facts.summary.materials
    yield _check(f"materials:{name}", 1 <= len(materials) <= tex.materials_per_lod,
                 f"{len(materials)} materials (at most {tex.materials_per_lod})")
    sizes = sorted(set(facts.textures.values()))
    yield _check(f"textures:{name}", len(facts.textures) == len(tex.maps) and sizes == [(tex.size, tex.size)],
                 f"{len(facts.textures)} textures of sizes {sizes}; expected {len(tex.maps)} of {tex.size}²")


def _round_trip(profile: Profile, lods: list[MeshFacts], reimported: list[MeshFacts] | str) -> Iterator[Check]:
    if isinstance(reimported, str):
        yield _check("round_trip", False, f"the exported files could not be re-imported: {reimported}")
        return
    back = {f.summary.name: f for f in reimported}
    tolerance = profile.validation.round_trip_tolerance
    for facts in lods:
        name, other = facts.summary.name, back.get(facts.summary.name)
        if other is None:
            yield _check(f"round_trip:{name}", False, f"not found on re-import (found {sorted(back)})")
            continue
        size = max(max(facts.summary.dimensions), 1e-9)
        drift = max(abs(a - b) for a, b in zip(facts.summary.dimensions, other.summary.dimensions)) / size
        yield _check(f"round_trip:{name}", other.triangles == facts.triangles and drift <= tolerance,
                     f"re-imported {other.triangles} triangles (exported {facts.triangles}), "
                     f"size {tuple(round(v, 4) for v in other.summary.dimensions)} vs "
                     f"{tuple(round(v, 4) for v in facts.summary.dimensions)} (drift {drift:.2%}, limit {tolerance:.0%})")


def judge(profile: Profile, asset: str, lods: list[MeshFacts], budgets: list[int],
          reimported: list[MeshFacts] | str) -> Verdict:
    """Every check over the built LODs and their re-import (or the re-import's error text)."""
    checks = [*_budgets(profile, lods, budgets), *_naming(profile, asset, lods)]
    for facts in lods:
        checks += [*_uvs(profile, facts), *_topology(profile, facts), *_placement(profile, facts),
                   *_materials(profile, facts)]
    checks += _round_trip(profile, lods, reimported)
    return Verdict(valid=all(c.passed for c in checks if c.required), profile=profile.name,
                   lods=[LodEntry(name=f.summary.name, triangles=f.triangles) for f in lods], checks=checks)

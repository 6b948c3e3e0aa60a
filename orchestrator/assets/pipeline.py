"""Asset finalization: a source scene or mesh file → an engine-ready, validated asset.

    import → cleanup → reduce (LOD0) → UV → PBR bake → normal bake → LODs → export → renders
    → inspect → round trip (a second, fresh worker re-imports the files) → verdict → publish

`finalize` reads as that list; each stage is one helper calling one worker tool. What is fatal is
decided in one place, `_run_stage`: a failing stage stops the job with an AssetError naming the
stage, except the stages marked optional (LOD renders), whose failure is recorded and skipped.
A failing round trip is not fatal either: it is a failed check, and the verdict says so.

Nothing is half-written: every file goes to a staging folder beside the output folder and is
renamed into place only after the verdict is written; a failure or a cancel removes the staging
folder. A cancel that lands while the files are being renamed into place is too late: publishing
finishes and the job ends done, so an output folder is never left half-published.
The workers are reached through `AssetWorker`, so the CLI (its own stdio workers) and the gateway
(leased pool scenes) drive the same code.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Protocol

from pydantic import BaseModel, Field

from harness.asset_types import (
    BakedMaps,
    CleanedMesh,
    DecimatedMesh,
    ExportedFiles,
    ImportedAsset,
    Inspection,
    LodRenders,
    MeshFacts,
    UVReport,
)
from orchestrator.assets.profiles import MIN_TRIANGLES, Profile
from orchestrator.assets.validation import LodEntry, Verdict, judge
from orchestrator.errors import AssetError

__all__ = ["AssetWorker", "FinalizeResult", "Progress", "asset_name", "finalize", "lod_budget"]

Progress = Callable[[str, int, int], Awaitable[None]]  # (stage, index, total)
STAGES = ("import", "cleanup", "reduce", "uv", "bake_materials", "bake_normals", "lods", "export", "renders",
          "inspect", "round_trip", "publish")
OPTIONAL = frozenset({"renders"})
TIMEOUT_S = {"bake_materials": 1800.0, "bake_normals": 900.0}
DEFAULT_TIMEOUT_S = 600.0


class AssetWorker(Protocol):
    """One Blender worker: call a tool, get its structured result; a tool error raises."""

    async def call(self, tool: str, arguments: dict[str, Any], timeout_s: float) -> dict[str, Any]: ...


class FinalizeResult(BaseModel):
    out_dir: str
    outputs: list[str] = Field(description="every file written, validation.json last")
    lods: list[LodEntry]
    valid: bool
    stage_s: dict[str, float] = Field(description="seconds per stage")
    skipped: dict[str, str] = Field(default_factory=dict, description="optional stages that failed, and why")


@dataclass
class _Job:
    """What one finalize call carries from stage to stage."""

    profile: Profile
    name: str
    worker: AssetWorker
    checker: AssetWorker
    progress: Progress | None
    objects: list[str] | None = None
    id: str = field(default_factory=lambda: f"finalize-{secrets.token_hex(4)}")
    stage_s: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    worker_files: list[Path] = field(default_factory=list)

    def lod(self, index: int) -> str:
        return self.profile.lod_name(self.name, index)

    async def call(self, stage: str, tool: str, **arguments: Any) -> dict[str, Any]:
        return await self.worker.call(tool, arguments, TIMEOUT_S.get(stage, DEFAULT_TIMEOUT_S))


def asset_name(stem: str) -> str:
    """A name every engine and exporter accepts, from a file or task name."""
    return re.sub(r"[^A-Za-z0-9_]", "_", stem).strip("_")[:40] or "asset"


async def finalize(source: Path, profile: Profile, out_dir: Path, worker: AssetWorker, checker: AssetWorker,
                   name: str | None = None, progress: Progress | None = None,
                   objects: list[str] | None = None) -> FinalizeResult:
    """Finalize `source` (only its mesh objects named in `objects`, when given) with `profile` into `out_dir`;
    `checker` must be a different, fresh worker."""
    job = _Job(profile, asset_name(name or source.stem), worker, checker, progress, objects)
    staging = out_dir.parent / f".{out_dir.name}.{job.id}.partial"
    try:
        imported = await _run_stage(job, "import", _import(job, source))
        cleaned = await _run_stage(job, "cleanup", _cleanup(job, imported))
        lod0 = await _run_stage(job, "reduce", _reduce(job, cleaned))
        await _run_stage(job, "uv", _unwrap(job))
        await _run_stage(job, "bake_materials", _bake(job, "bake_materials", cleaned,
                                                      [m for m in profile.textures.maps if m != "normal"]))
        await _run_stage(job, "bake_normals", _bake(job, "bake_normals", cleaned,
                                                    [m for m in profile.textures.maps if m == "normal"]))
        budgets, lods = await _run_stage(job, "lods", _lods(job, lod0))
        exported = await _run_stage(job, "export", _export(job, lods))
        renders = await _run_stage(job, "renders", _renders(job, lods))
        facts = await _run_stage(job, "inspect", _inspect(job, lods))
        reimported = await _run_stage(job, "round_trip", _round_trip(job, exported))
        verdict = judge(profile, job.name, facts, budgets, reimported)
        outputs = await _run_stage(job, "publish", _publish(job, staging, out_dir, exported, renders, verdict))
    finally:  # the staging folder, and the worker's job folder its files were copied from
        job_folders = {a for p in job.worker_files for a in p.parents if a.name == job.id}
        await asyncio.to_thread(_remove, [staging, *job_folders])
    return FinalizeResult(out_dir=str(out_dir), outputs=[str(p) for p in outputs], lods=verdict.lods,
                          valid=verdict.valid, stage_s=job.stage_s, skipped=job.skipped)


async def _run_stage(job: _Job, stage: str, work: Awaitable[Any]) -> Any:
    """Time the stage and report progress; the one place that decides what is fatal (see the module docstring)."""
    if job.progress is not None:
        await job.progress(stage, STAGES.index(stage), len(STAGES))
    started = time.perf_counter()
    try:
        return await work
    except AssetError:
        raise
    except Exception as e:
        if stage in OPTIONAL:
            job.skipped[stage] = str(e)
            return None
        raise AssetError(f"stage {stage} failed: {e}") from e
    finally:
        job.stage_s[stage] = round(time.perf_counter() - started, 3)


async def _import(job: _Job, source: Path) -> ImportedAsset:
    imported = ImportedAsset.model_validate(await job.call("import", "asset_import", path=str(source), join_as="high",
                                                          **({"objects": job.objects} if job.objects else {})))
    if imported.triangles > job.profile.max_source_triangles:
        raise AssetError(f"{source.name} has {imported.triangles} triangles; profile {job.profile.name!r} "
                         f"accepts at most {job.profile.max_source_triangles} (max_source_triangles)")
    return imported


async def _cleanup(job: _Job, imported: ImportedAsset) -> CleanedMesh:
    c = job.profile.cleanup
    return CleanedMesh.model_validate(await job.call(
        "cleanup", "asset_cleanup", object=imported.objects[0], merge_distance=c.merge_distance,
        fill_holes_sides=c.fill_holes_sides, triangulate=c.triangulate, origin=c.origin))


async def _reduce(job: _Job, cleaned: CleanedMesh) -> DecimatedMesh:
    """LOD0: the cleaned mesh brought within the first budget; the high mesh stays for baking."""
    return DecimatedMesh.model_validate(await job.call(
        "reduce", "asset_decimate", source=cleaned.object, target=job.lod(0),
        max_triangles=job.profile.lods.triangles[0]))


async def _unwrap(job: _Job) -> UVReport:
    uv, size = job.profile.uv, job.profile.textures.size
    return UVReport.model_validate(await job.call(
        "uv", "asset_uv", object=job.lod(0), method=uv.method, angle_limit_deg=uv.angle_limit_deg,
        margin=uv.margin_px / size))


async def _bake(job: _Job, stage: str, cleaned: CleanedMesh, maps: list[str]) -> BakedMaps | None:
    """Bake `maps` (when the profile asks for any) from the cleaned high mesh onto LOD0."""
    if not maps:
        return None
    t = job.profile.textures
    baked = BakedMaps.model_validate(await job.call(
        stage, "asset_bake",
        high=cleaned.object, low=job.lod(0), maps=maps, job=job.id, size=t.size,
        cage_extrusion=t.cage_extrusion * max(cleaned.dimensions), margin_px=job.profile.uv.margin_px,
        samples=t.samples, material=f"{job.profile.export.prefix}{job.name}_MAT"))
    job.worker_files += [Path(p) for p in baked.textures.values()]
    return baked


def lod_budget(profile: Profile, index: int, lod0_triangles: int) -> int:
    """LOD i's budget: the profile's, and at most ratio × LOD0 (ratio 0.5^i when the profile sets none), never
    below a closed mesh's minimum; a source too small for its LODs then fails `lods_decrease`, saying so."""
    if index == 0:
        return profile.lods.triangles[0]
    ratio = profile.lods.ratios[index] if profile.lods.ratios else 0.5 ** index
    return min(profile.lods.triangles[index], max(MIN_TRIANGLES, int(ratio * lod0_triangles)))


async def _lods(job: _Job, lod0: DecimatedMesh) -> tuple[list[int], list[str]]:
    budgets = [lod_budget(job.profile, i, lod0.triangles) for i in range(len(job.profile.lods.triangles))]
    for index, budget in enumerate(budgets[1:], start=1):
        await job.call("lods", "asset_decimate", source=job.lod(0), target=job.lod(index), max_triangles=budget)
    return budgets, [job.lod(i) for i in range(len(budgets))]


async def _export(job: _Job, lods: list[str]) -> ExportedFiles:
    e = job.profile.export
    exported = ExportedFiles.model_validate(await job.call(
        "export", "asset_export", lods=lods, format=e.format, stem=f"{e.prefix}{job.name}", job=job.id,
        group=f"{e.prefix}{job.name}" if e.lod_group else None, split=e.split_lods,
        fbx=e.fbx.model_dump(), gltf=e.gltf.model_dump()))
    job.worker_files += [Path(p) for p in exported.files]
    return exported


async def _renders(job: _Job, lods: list[str]) -> LodRenders:
    renders = LodRenders.model_validate(await job.call("renders", "asset_render_lods", objects=lods, job=job.id))
    job.worker_files += [Path(p) for p in renders.images.values()]
    return renders


async def _inspect(job: _Job, lods: list[str]) -> list[MeshFacts]:
    return Inspection.model_validate(await job.call("inspect", "asset_inspect", objects=lods)).meshes


async def _round_trip(job: _Job, exported: ExportedFiles) -> list[MeshFacts] | str:
    """What a fresh worker sees when it imports the exported files; the error text when it cannot."""
    facts: list[MeshFacts] = []
    try:
        for path in exported.files:
            await job.checker.call("asset_import", {"path": path}, DEFAULT_TIMEOUT_S)
            facts += Inspection.model_validate(await job.checker.call("asset_inspect", {}, DEFAULT_TIMEOUT_S)).meshes
    except Exception as e:  # noqa: BLE001 - a failed re-import is a failed check, reported in the verdict
        return str(e)
    return facts


async def _publish(job: _Job, staging: Path, out_dir: Path, exported: ExportedFiles, renders: LodRenders | None,
                   verdict: Verdict) -> list[Path]:
    """Stage every file, then rename them into `out_dir`, validation.json last."""
    files: dict[str, Path] = {Path(p).name: Path(p) for p in exported.files}
    files |= {f"textures/{p.name}": p for p in job.worker_files if p.parent.name == "textures"}
    if renders is not None:
        files |= {f"renders/{name}.png": Path(p) for name, p in renders.images.items()}
    work = asyncio.ensure_future(asyncio.to_thread(_stage_and_rename, staging, out_dir, files,
                                                   verdict.model_dump_json(indent=2)))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:  # the renames cannot be taken back: finish them, and the job is done
        published = await work
        if (task := asyncio.current_task()) is not None:
            task.uncancel()
        return published


def _stage_and_rename(staging: Path, out_dir: Path, files: dict[str, Path], validation: str) -> list[Path]:
    try:
        for rel, source in files.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, staging / rel)
        (staging / "validation.json").write_text(validation, encoding="utf-8")
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AssetError(f"could not write the asset under {out_dir}: {e}") from e
    published = []
    for rel in [*files, "validation.json"]:
        (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, out_dir / rel)
        published.append(out_dir / rel)
    return published


def _remove(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)

"""The task: what to build, what it should look like, how to render it and how much to spend.

A task comes from a TOML file (DESIGN.md "Task file") or inline (description, optional reference
images as paths, base64 or data URLs). Every path is resolved against the task file's folder and
may not escape it; every validation error names the field and the file. The start baseline is a
baseline id or, in a task file, a .blend next to it (an inline task has no folder: ids only).
"""

from __future__ import annotations

import gzip
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.blueprint_types import Blueprint
from harness.errors import ImageDataError
from harness.image_format import decode_image_text, image_mime, is_data_url
from harness.scene_types import VIEW_NAMES, RenderSettings
from orchestrator.blueprint_task import blueprint_table, load_blueprint
from orchestrator.errors import TaskError

__all__ = ["StartSpec", "Budget", "FinalizeSpec", "Task", "load_task", "inline_task", "task_to_toml", "RUN_BASELINE"]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_BASELINE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BLEND_SUFFIX = ".blend"
RUN_BASELINE = "baseline.blend"  # where a run folder keeps a task's .blend baseline, next to its task.toml
# bpy 5.0.1 writes zstd-compressed files by default; uncompressed ones start with BLENDER, old ones are gzip
_BLEND_MAGIC, _ZSTD_MAGIC, _GZIP_MAGIC = b"BLENDER", b"\x28\xb5\x2f\xfd", b"\x1f\x8b"


class StartSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: str | None = Field(None, description="starting program, relative to the task file")
    baseline: str = Field("empty", min_length=1, max_length=1024,
                          description="baseline id the attempts start from, or a .blend relative to the task file")

    @field_validator("baseline")
    @classmethod
    def _id_or_blend(cls, value: str) -> str:
        if _BASELINE_ID.fullmatch(value) or value.endswith(_BLEND_SUFFIX):
            return value
        raise ValueError(f"{value!r} is neither a baseline id (1-64 of A-Z a-z 0-9 _ -) nor a path ending in .blend")

    @property
    def baseline_is_file(self) -> bool:
        return not _BASELINE_ID.fullmatch(self.baseline)


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attempts: int = Field(3, ge=1, le=64)
    iterations: int = Field(5, ge=1, le=1000)
    threshold: float = Field(0.85, ge=0.0, le=1.0)
    timeout_s: float = Field(600.0, gt=0, le=7 * 24 * 3600)
    max_cost_usd: float | None = Field(None, gt=0, description="model spend per run, USD (orchestrator.spend)")
    max_tokens: int | None = Field(None, gt=0, description="model tokens (in + out) per run")
    tool_calls: int = Field(8, ge=0, le=50, description="tool calls per iteration of a builder model that can call "
                                                        "functions; 0: it writes whole programs")
    verifier_looks: int = Field(2, ge=0, le=8, description="extra looks a VLM verifier that can call tools may take "
                                                           "per iteration before judging")


class FinalizeSpec(BaseModel):
    """[finalize]: turn the best attempt into an engine-ready asset when the run ends."""

    model_config = ConfigDict(extra="forbid")
    profile: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="finalize profile name, e.g. unity")
    objects: list[str] | None = Field(None, max_length=256, description="only these mesh objects of the best scene "
                                                                       "(leave the ground plane out); default: all")


class MeasureSpec(BaseModel):
    """[measure]: which objects are the subject the residuals measure (default: what the program made, less a
    ground plane: servers/blender_primary/measure.py)."""

    model_config = ConfigDict(extra="forbid")
    objects: list[str] | None = Field(None, min_length=1, max_length=64, description="the subject's object names; "
                                                                                     "an unknown name fails the render")


class _TaskFile(BaseModel):
    """The file's shape, before paths are resolved."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=_NAME)
    description: str = Field(min_length=1, max_length=20_000)
    start: StartSpec = Field(default_factory=StartSpec)
    reference: dict[str, str] = Field(default_factory=dict)
    render: RenderSettings = Field(default_factory=RenderSettings)
    budget: Budget = Field(default_factory=Budget)
    finalize: FinalizeSpec = Field(default_factory=FinalizeSpec)
    measure: MeasureSpec = Field(default_factory=MeasureSpec)
    models: dict[str, list[str]] = Field(default_factory=dict, description="role → model chain for this task's runs")
    blueprint: dict[str, Any] | None = None  # validated by orchestrator.blueprint_task

    def render_settings(self) -> RenderSettings:
        """[render], with [measure] objects as the subject to measure."""
        return self.render.model_copy(update={"subject": self.measure.objects}) if self.measure.objects else self.render

    @field_validator("models", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return {k: [v] if isinstance(v, str) else v for k, v in value.items()} if isinstance(value, dict) else value


class Task(BaseModel):
    """A validated task with absolute, existing reference paths and the start program's text."""

    name: str
    description: str
    start: StartSpec
    references: dict[str, Path]
    render: RenderSettings
    budget: Budget
    finalize: FinalizeSpec = Field(default_factory=FinalizeSpec)
    models: dict[str, list[str]] = Field(default_factory=dict, description="[models]: role → chain (harness.model_choice)")
    blueprint: Blueprint | None = Field(None, description="orthographic plans the renders are measured against")
    start_code: str | None = None
    baseline_file: Path | None = Field(None, description="the start .blend, absolute, when start.baseline is a path")
    source: Path | None = Field(None, description="the task file, when there was one")


def _fail(where: str, field: str, message: str) -> TaskError:
    return TaskError(f"{where}: {field}: {message}")


def _inside(base: Path, rel: str, where: str, field: str) -> Path:
    """`rel` resolved against `base`, refusing absolute paths, escapes and missing files."""
    if not rel or Path(rel).is_absolute():
        raise _fail(where, field, f"must be a path relative to the task file, got {rel!r}")
    path = (base / rel).resolve()
    if not path.is_relative_to(base.resolve()):
        raise _fail(where, field, f"{rel!r} escapes the task folder {base}")
    if not path.is_file():
        raise _fail(where, field, f"file not found: {path}")
    return path


def _is_blend(path: Path) -> bool:
    """A .blend by its first bytes: plain, zstd (Blender's default since 3.0) or gzip (older Blenders)."""
    with path.open("rb") as f:
        head = f.read(len(_BLEND_MAGIC))
    if head.startswith(_GZIP_MAGIC):
        try:
            with gzip.open(path, "rb") as f:
                head = f.read(len(_BLEND_MAGIC))
        except (OSError, EOFError):
            return False
    return head == _BLEND_MAGIC or head.startswith(_ZSTD_MAGIC)


def _blend_file(base: Path, rel: str, where: str) -> Path:
    path = _inside(base, rel, where, "start.baseline")
    if not _is_blend(path):
        raise _fail(where, "start.baseline", f"{path} is not a .blend file (no BLENDER header, zstd or gzip frame)")
    return path


def _parse(raw: dict[str, Any], where: str) -> _TaskFile:
    try:
        return _TaskFile.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise _fail(where, field, first["msg"]) from None


def _check_views(refs: dict[str, Any], where: str) -> None:
    for view in refs:
        if view not in VIEW_NAMES:
            raise _fail(where, f"reference.{view}", f"unknown view; expected one of {', '.join(VIEW_NAMES)}")


def load_task(path: str | Path) -> Task:
    """Read and validate a task file."""
    path = Path(path)
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaskError(f"{where}: task file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise TaskError(f"{where}: invalid TOML: {e}") from None
    spec = _parse(raw, where)
    _check_views(spec.reference, where)
    base = path.parent
    refs = {view: _inside(base, rel, where, f"reference.{view}") for view, rel in spec.reference.items()}
    code = None
    if spec.start.program:
        code = _inside(base, spec.start.program, where, "start.program").read_text(encoding="utf-8")
    blend = _blend_file(base, spec.start.baseline, where) if spec.start.baseline_is_file else None
    blueprint = load_blueprint(spec.blueprint, where, lambda field, rel: _inside(base, rel, where, field), refs)
    return Task(name=spec.name, description=spec.description, start=spec.start, references=refs,
                render=spec.render_settings(), budget=spec.budget, finalize=spec.finalize, models=spec.models,
                blueprint=blueprint, start_code=code, baseline_file=blend, source=path.resolve())


def _decode_image(value: str, field: str) -> bytes:
    try:
        return decode_image_text(value, MAX_IMAGE_BYTES)
    except ImageDataError as e:
        raise _fail("inline task", field, f"neither an existing file path nor image data: {e}") from None


def inline_task(description: str, references: dict[str, str] | None, staging_dir: Path,
                allowed_roots: list[Path] | None = None, **tables: Any) -> Task:
    """A task given inline; base64 references are written under `staging_dir` so they become paths.

    A path reference must lie under one of `allowed_roots` (default: none, so only base64 is accepted).
    """
    name = tables.pop("name", None) or (re.sub(r"[^A-Za-z0-9]+", "_", description).strip("_")[:40] or "task")
    spec = _parse({"name": name, "description": description, **tables}, "inline task")
    if spec.start.baseline_is_file:
        raise _fail("inline task", "start.baseline", "a .blend path needs a task file to be relative to; "
                    "an inline task takes a baseline id such as 'empty' (or give the task as a task file)")
    refs_in = references or {}
    _check_views(refs_in, "inline task")

    def image(field: str, value: str) -> Path:
        return _inline_image(field, value, staging_dir, allowed_roots or [])

    refs = {view: image(f"reference.{view}", value) for view, value in refs_in.items()}
    blueprint = load_blueprint(spec.blueprint, "inline task", image, refs)
    return Task(name=spec.name, description=spec.description, start=spec.start, references=refs,
                render=spec.render_settings(), budget=spec.budget, finalize=spec.finalize, models=spec.models,
                blueprint=blueprint, start_code=None, source=None)


def _inline_image(field: str, value: str, staging_dir: Path, allowed_roots: list[Path]) -> Path:
    """An inline image: an existing file under an allowed root, or base64 written under `staging_dir`."""
    candidate = Path(value) if len(value) < 4096 and not is_data_url(value) else None
    if candidate is not None and candidate.is_file():
        resolved = candidate.resolve()
        if not any(resolved.is_relative_to(root.resolve()) for root in allowed_roots):
            raise _fail("inline task", field, f"path {value!r} is outside the allowed roots")
        return resolved
    blob = _decode_image(value, field)
    staging_dir.mkdir(parents=True, exist_ok=True)
    dest = staging_dir / (field.removeprefix("reference.").replace(".", "_") + (".png" if image_mime(blob) == "image/png" else ".jpg"))
    dest.write_bytes(blob)
    return dest.resolve()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def task_to_toml(task: Task, references: dict[str, str], program: str | None, plans: dict[str, str] | None = None) -> str:
    """The task as a task file whose reference, drawing (`plans`) and program paths are the given relative ones.

    A .blend baseline is written as RUN_BASELINE: the copy of the task lives in a run folder, which
    keeps the .blend under that name next to its task.toml.
    """
    baseline = RUN_BASELINE if task.baseline_file else task.start.baseline
    tables: dict[str, dict[str, Any]] = {
        "start": {"baseline": baseline, **({"program": program} if program else {})},
        "reference": references,
        "render": task.render.model_dump(exclude_none=True),
        "budget": task.budget.model_dump(exclude_none=True),
        **({"finalize": task.finalize.model_dump(exclude_none=True)} if task.finalize.profile else {}),
        **({"models": task.models} if task.models else {}),
    }
    lines = [f"name = {_toml_value(task.name)}", f"description = {_toml_value(task.description)}"]
    if task.blueprint is not None:
        tables["blueprint"] = blueprint_table(task.blueprint, plans or {})
    for table, values in tables.items():
        lines += ["", f"[{table}]"] + [f"{k} = {_toml_value(v)}" for k, v in values.items() if not isinstance(v, dict)]
        for sub, inner in ((k, v) for k, v in values.items() if isinstance(v, dict)):
            lines += ["", f"[{table}.{sub}]"] + [f"{k} = {_toml_value(v)}" for k, v in inner.items()]
    return "\n".join(lines) + "\n"

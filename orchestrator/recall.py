"""Cross-run recall (MEM-05): every finished run indexed by how its images look and what it was asked.

Each finished run, failures included, becomes one entry: its task text, its outcome, its best
program and parameter values, and image signatures (harness.image_signature: pHash and colour
histogram) of its references and best renders, with the best renders' residual vectors against
those references. A new run looks up the past run that resembles it most: by its references
against theirs and their best renders (view by view), and by its description's words. No network
model is involved, so recall works offline and costs milliseconds.

The index is one JSON file in the memory folder, a cache of what the run folders hold: a missing
or unreadable index is rebuilt from the run folders, and a run folder that cannot be read is left
out. Neither is ever fatal to a run.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from harness.image_signature import HUE_BINS, ImageSignature, signature
from orchestrator.artifacts import read_json, write_atomic
from orchestrator.params import ParamError, find_params

__all__ = ["RecallEntry", "RecallHit", "RecallStore", "entry_from_folder", "INDEX_FILE"]

INDEX_FILE = "recall-index.json"
INDEX_VERSION = 1
VISUAL_WEIGHT = 0.75  # with references, how a run looks decides more than how it is worded
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an the of with and or on in to is it its at by for from as that this".split())
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
log = logging.getLogger(__name__)


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1)


class RecallEntry(BaseModel):
    run_id: str
    task_name: str
    task_text: str
    outcome: str = Field(description="the run's status: completed, failed, timeout, budget, ...")
    score: float | None = Field(None, description="its best score; None when nothing scored")
    builder: str = ""
    code: str = Field("", description="its best program")
    params: dict[str, list[float]] = Field(default_factory=dict, description="the best program's `# param` values")
    renders: dict[str, str] = Field(default_factory=dict, description="view → the best render's absolute path")
    reference_signatures: dict[str, ImageSignature] = Field(default_factory=dict)
    render_signatures: dict[str, ImageSignature] = Field(default_factory=dict)
    residuals: dict[str, list[float]] = Field(default_factory=dict, description="view → the best render's residual vector")
    indexed_at: float = Field(default_factory=time.time)


class RecallHit(BaseModel):
    entry: RecallEntry
    similarity: float
    visual: float | None = Field(None, description="how alike the images are (0..1), over the views both have")
    text: float = Field(description="Jaccard overlap of the task texts' words")
    views: list[str] = Field(default_factory=list)

    def why(self) -> str:
        seen = (f"references look alike in {', '.join(self.views)} ({self.visual:.2f}: pHash and colour)"
                if self.visual is not None else "no references to compare")
        return f"{seen}; description words overlap {self.text:.2f}"


def entry_from_folder(root: Path) -> RecallEntry | None:
    """A run folder as an index entry; None when it is not a finished run that can be read."""
    try:
        meta, task = read_json(root / "run.json"), _task_text(root / "task.toml")
        if meta.get("status") in ("running", "starting", None):
            return None
        best = read_json(root / "best_attempt.json") if (root / "best_attempt.json").is_file() else None
    except (OSError, ValueError):
        return None
    refs = {p.stem: s for p in sorted((root / "ref").glob("*.png")) if (s := signature(p)) is not None} \
        if (root / "ref").is_dir() else {}
    entry = RecallEntry(run_id=root.name, task_name=task[0], task_text=f"{task[0]} {task[1]}", outcome=meta["status"],
                        builder=meta.get("config", {}).get("builder", ""), reference_signatures=refs)
    if best is None:
        return entry
    renders = {v: root / p for v, p in (best.get("renders") or {}).items()}
    code_file = root / best.get("code", "")
    code = code_file.read_text(encoding="utf-8") if best.get("code") and code_file.is_file() else ""
    try:
        params = {p.name: p.value for p in find_params(code)} if code else {}
    except ParamError:
        params = {}
    return entry.model_copy(update={
        "score": best.get("score"), "code": code, "params": params,
        "renders": {v: str(p) for v, p in renders.items()},
        "render_signatures": {v: s for v, p in renders.items() if (s := signature(p)) is not None},
        "residuals": _residuals(root, best)})


def _task_text(path: Path) -> tuple[str, str]:
    import tomllib

    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return str(raw["name"]), str(raw.get("description", ""))


def _residuals(root: Path, best: dict[str, Any]) -> dict[str, list[float]]:
    from harness.residuals import ViewResiduals

    path = root / "attempts" / f"attempt-{best['attempt']:03d}" / "iterations" / f"iter-{best['iteration']:03d}" / "verifier.json"
    try:
        views = ((read_json(path).get("compare") or {}).get("views") or {})
        return {v: ViewResiduals.model_validate(m["residuals"]).vector() for v, m in views.items() if m.get("residuals")}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


class _Matrix:
    """The index's signatures as arrays, one row per entry, for one query in a few vectorised steps.

    Built from the index file's raw JSON: an entry is validated into a RecallEntry only when it is
    asked for (the hit), so loading 1,000 entries costs a JSON parse, not 1,000 model validations."""

    def __init__(self, raw: list[dict[str, Any]], min_score: float) -> None:
        self.raw = raw
        self._entries: list[RecallEntry] | None = None
        self.run_ids = [str(r["run_id"]) for r in raw]
        words = [_words(str(r["task_text"])) for r in raw]
        self.vocabulary = {w: i for i, w in enumerate(sorted(set().union(*words)))}
        self.word_matrix = np.zeros((len(raw), len(self.vocabulary)), dtype=np.float32)
        for row, ws in enumerate(words):
            self.word_matrix[row, [self.vocabulary[w] for w in ws]] = 1.0
        self.word_counts = self.word_matrix.sum(axis=1)
        self.scores = np.array([r.get("score") or 0.0 for r in raw], dtype=np.float32)
        self.eligible = np.array([bool(r.get("code")) and r.get("score") is not None for r in raw], bool) & (
            self.scores >= min_score)
        self.views: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        names = {v for r in raw for kind in ("reference_signatures", "render_signatures") for v in r.get(kind) or {}}
        for view in names:
            for kind in ("reference_signatures", "render_signatures"):
                sigs = [(r.get(kind) or {}).get(view) for r in raw]
                present = np.array([s is not None for s in sigs], bool)
                hashes = np.array([int(s["phash"], 16) if s else 0 for s in sigs], dtype=np.uint64)
                colours = np.array([s["colour"] if s else [0.0] * (HUE_BINS + 1) for s in sigs], dtype=np.float32)
                if colours.shape != (len(raw), HUE_BINS + 1):
                    raise ValueError(f"{kind}.{view}: colour histograms of another length")
                self.views[f"{kind}:{view}"] = (present, hashes.view(np.uint8).reshape(-1, 8), colours)

    def __len__(self) -> int:
        return len(self.raw)

    def entry(self, i: int) -> RecallEntry:
        return RecallEntry.model_validate(self.raw[i])

    @property
    def entries(self) -> list[RecallEntry]:
        if self._entries is None:
            self._entries = [self.entry(i) for i in range(len(self.raw))]
        return self._entries

    def visual(self, query: dict[str, ImageSignature]) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: the mean over shared views of the best match (its references or its best renders),
        and how many views were shared."""
        total = np.zeros(len(self), dtype=np.float32)
        count = np.zeros(len(self), dtype=np.int32)
        for view, sig in query.items():
            best = np.full(len(self), -1.0, dtype=np.float32)
            q_hash = np.array([int(sig.phash, 16)], dtype=np.uint64).view(np.uint8)
            q_colour = np.array(sig.colour, dtype=np.float32)
            for kind in ("reference_signatures", "render_signatures"):
                if f"{kind}:{view}" not in self.views:
                    continue
                present, hashes, colours = self.views[f"{kind}:{view}"]
                bits = _POPCOUNT[hashes ^ q_hash].sum(axis=1)
                shape = np.clip(1.0 - bits / 32.0, 0.0, 1.0)
                colour = np.minimum(colours, q_colour).sum(axis=1)
                best = np.where(present, np.maximum(best, 0.5 * shape + 0.5 * colour), best)
            seen = best >= 0
            total += np.where(seen, best, 0.0)
            count += seen
        return np.where(count > 0, total / np.maximum(count, 1), np.nan), count

    def text(self, words: frozenset[str]) -> np.ndarray:
        """Per entry, the Jaccard overlap of its task text's words with `words`."""
        known = [self.vocabulary[w] for w in words if w in self.vocabulary]
        shared = self.word_matrix[:, known].sum(axis=1)
        union = self.word_counts + len(words) - shared
        return np.where(union > 0, shared / np.maximum(union, 1), 0.0)


class RecallStore:
    """The index of one runs folder, kept in `root` (its .memory folder); rebuilt from `runs_dir` when needed."""

    def __init__(self, root: Path, runs_dir: Path | None = None, min_score: float = 0.5,
                 min_similarity: float = 0.75) -> None:
        self.root, self.runs_dir = root, runs_dir
        self.min_score, self.min_similarity = min_score, min_similarity
        self._cache: tuple[tuple[int, int], _Matrix] | None = None

    @property
    def path(self) -> Path:
        return self.root / INDEX_FILE

    def entries(self) -> list[RecallEntry]:
        return self._matrix().entries

    def add(self, entry: RecallEntry) -> None:
        """Index one finished run (replacing an older entry of the same run)."""
        entries = [e for e in self.entries() if e.run_id != entry.run_id] + [entry]
        self._write(entries)

    def rebuild(self) -> list[RecallEntry]:
        """The index made again from every run folder that can be read."""
        folders = sorted(p.parent for p in self.runs_dir.glob("*/run.json")) if self.runs_dir and self.runs_dir.is_dir() else []
        entries = [e for f in folders if (e := entry_from_folder(f)) is not None]
        self._write(entries)
        return entries

    def lookup(self, task_text: str, references: dict[str, Path], exclude: str | None = None) -> RecallHit | None:
        """The finished, well-scored past run most like this task, when alike enough (`min_similarity`)."""
        matrix = self._matrix()
        if not len(matrix):
            return None
        query = {v: s for v, p in references.items() if (s := signature(Path(p))) is not None}
        text = matrix.text(_words(task_text))
        if query:
            visual, count = matrix.visual(query)
            seen = count > 0
            similarity = np.where(seen, VISUAL_WEIGHT * np.nan_to_num(visual) + (1 - VISUAL_WEIGHT) * text, text)
        else:
            visual, seen, similarity = np.full(len(text), np.nan), np.zeros(len(text), bool), text
        usable = matrix.eligible & (similarity >= self.min_similarity)
        if exclude is not None:
            usable &= np.array([r != exclude for r in matrix.run_ids], bool)
        if not usable.any():
            return None
        i = int(np.lexsort((np.where(usable, matrix.scores, -1.0), np.where(usable, similarity, -1.0)))[-1])
        try:
            entry = matrix.entry(i)
        except ValidationError as e:  # a damaged entry: the index is rebuilt, and asked again
            log.warning("recall index %s has a damaged entry (%s): rebuilt from the run folders", self.path, e)
            self.rebuild()
            return self.lookup(task_text, references, exclude)
        return RecallHit(entry=entry, similarity=round(float(similarity[i]), 4), text=round(float(text[i]), 4),
                         visual=round(float(visual[i]), 4) if seen[i] else None,
                         views=[v for v in query if v in entry.reference_signatures or v in entry.render_signatures])

    def entry(self, run_id: str) -> RecallEntry | None:
        matrix = self._matrix()
        return matrix.entry(matrix.run_ids.index(run_id)) if run_id in matrix.run_ids else None

    def _matrix(self) -> _Matrix:
        """The index as loaded (cached while the file is unchanged); rebuilt when missing or unreadable."""
        try:
            stat = self.path.stat()
            key = (stat.st_mtime_ns, stat.st_size)
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
            matrix = _Matrix(json.loads(self.path.read_bytes())["entries"], self.min_score)
        except FileNotFoundError:
            self.rebuild() if self.runs_dir is not None else self._write([])
            return self._cache[1]  # type: ignore[index]  # _write set it
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            log.warning("recall index %s unreadable (%s): rebuilt from the run folders", self.path, e)
            self.rebuild()
            return self._cache[1]  # type: ignore[index]
        self._cache = (key, matrix)
        return matrix

    def _key(self) -> tuple[int, int]:
        try:
            stat = self.path.stat()
            return stat.st_mtime_ns, stat.st_size
        except OSError:
            return (0, 0)

    def _write(self, entries: list[RecallEntry]) -> None:
        raw = [e.model_dump(mode="json") for e in entries]
        try:
            write_atomic(self.path, json.dumps({"version": INDEX_VERSION, "entries": raw}))
        except OSError as e:  # a read-only memory folder: recall goes on from memory, the runs are unharmed
            log.warning("recall index %s not written: %s", self.path, e)
        self._cache = (self._key(), _Matrix(raw, self.min_score))

"""Cross-run recall (MEM-05): every finished run indexed by how its images look and what it was asked.

Each finished run, failures included, becomes one entry: its task text, its outcome, its best
program and parameter values, and image signatures (harness.image_signature: pHash and colour
histogram) of its references and best renders, with the best renders' residual vectors against
those references. A new run looks up the past run that resembles it most: by its references
against theirs and their best renders (view by view), and by its description's words. No network
model is involved, so recall works offline and costs milliseconds.

The index is one JSON file in the memory folder, a cache of what the run folders hold, with a side
file of the signatures as arrays (orchestrator.recall_matrix) that a look-up reads in one call. A
missing or unreadable index is rebuilt from the run folders; a missing, damaged or outdated side
file is made again from the index; run folders added or removed behind the index's back are
indexed or dropped at the next look-up; a run folder that cannot be read is left out. None of
these is ever fatal to a run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from pydantic import BaseModel, Field

from harness.image_signature import ImageSignature, signature
from orchestrator.artifacts import read_json, write_atomic
from orchestrator.params import ParamError, find_params
from orchestrator.recall_matrix import SignatureMatrix, encode_index, index_token, words

__all__ = ["RecallEntry", "RecallHit", "RecallStore", "entry_from_folder", "INDEX_FILE", "SIDE_FILE"]

INDEX_FILE = "recall-index.json"
SIDE_FILE = "recall-index.npz"  # the look-up's arrays (orchestrator.recall_matrix)
INDEX_VERSION = 1
VISUAL_WEIGHT = 0.75  # with references, how a run looks decides more than how it is worded
log = logging.getLogger(__name__)


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
    """A run folder as an index entry; None when it is not a finished run that can be read (a cancelled run
    may be resumed: it is indexed when it ends)."""
    try:
        meta, task = read_json(root / "run.json"), _task_text(root / "task.toml")
        if meta.get("status") in ("running", "starting", "cancelled", None):
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


class RecallStore:
    """The index of one runs folder, kept in `root` (its .memory folder) beside its signature side file
    (orchestrator.recall_matrix); kept in step with the run folders of `runs_dir`, rebuilt from them when damaged."""

    def __init__(self, root: Path, runs_dir: Path | None = None, min_score: float = 0.5,
                 min_similarity: float = 0.75) -> None:
        self.root, self.runs_dir = root, runs_dir
        self.min_score, self.min_similarity = min_score, min_similarity
        self._cache: _Loaded | None = None

    @property
    def path(self) -> Path:
        return self.root / INDEX_FILE

    @property
    def side_path(self) -> Path:
        return self.root / SIDE_FILE

    def entries(self) -> list[RecallEntry]:
        self._matrix()
        return self._all()

    def add(self, entry: RecallEntry) -> None:
        """Index one finished run (replacing an older entry of the same run)."""
        entries = [e for e in self.entries() if e.run_id != entry.run_id] + [entry]
        self._write(entries)

    def rebuild(self) -> list[RecallEntry]:
        """The index made again from every run folder that can be read."""
        folders = [self.runs_dir / name for name in sorted(self._run_folders())] if self.runs_dir is not None else []
        entries = [e for f in folders if (e := entry_from_folder(f)) is not None]
        self._write(entries)
        return entries

    def lookup(self, task_text: str, references: dict[str, Path], exclude: str | None = None) -> RecallHit | None:
        """The finished, well-scored past run most like this task, when alike enough (`min_similarity`)."""
        query = {v: s for v, p in references.items() if (s := signature(Path(p))) is not None}
        for tries in range(3):
            matrix = self._matrix()
            if not len(matrix):
                return None
            text = matrix.text(words(task_text))
            if query:
                visual, count = matrix.visual(query)
                seen = count > 0
                similarity = np.where(seen, VISUAL_WEIGHT * np.nan_to_num(visual) + (1 - VISUAL_WEIGHT) * text, text)
            else:
                visual, seen, similarity = np.full(len(text), np.nan), np.zeros(len(text), bool), text
            usable = matrix.eligible(self.min_score) & (similarity >= self.min_similarity)
            if exclude is not None:
                usable &= np.array([r != exclude for r in matrix.run_ids], bool)
            if not usable.any():
                return None
            i = int(np.lexsort((np.where(usable, matrix.scores, -1.0), np.where(usable, similarity, -1.0)))[-1])
            try:
                entry = self._entry_at(i)
            except (OSError, ValueError) as e:  # ValidationError is a ValueError
                self._repair(e, tries)
                continue
            return RecallHit(entry=entry, similarity=round(float(similarity[i]), 4), text=round(float(text[i]), 4),
                             visual=round(float(visual[i]), 4) if seen[i] else None,
                             views=[v for v in query if v in entry.reference_signatures or v in entry.render_signatures])
        return None

    def entry(self, run_id: str) -> RecallEntry | None:
        for tries in range(3):
            matrix = self._matrix()
            if run_id not in matrix.run_ids:
                return None
            try:
                return self._entry_at(matrix.run_ids.index(run_id))
            except (OSError, ValueError) as e:
                self._repair(e, tries)
        return None

    def _repair(self, error: Exception, tries: int) -> None:
        """An entry could not be read: first the index is read again (another process may have just
        rewritten it), then it is rebuilt from the run folders."""
        self._cache = None
        if tries:
            log.warning("recall index %s has a damaged entry (%s): rebuilt from the run folders", self.path, error)
            self.rebuild()

    def _entry_at(self, i: int) -> RecallEntry:
        """Row i's whole entry: from memory when the index was just parsed, else its byte range of the index file."""
        loaded = self._cache
        assert loaded is not None  # _matrix() ran
        if loaded.raw is not None:
            return RecallEntry.model_validate(loaded.raw[i])
        if index_token(self.path) != loaded.token:
            raise ValueError("the index was rewritten since it was read")
        start, end = (int(x) for x in loaded.matrix.offsets[i])
        with self.path.open("rb") as f:
            f.seek(start)
            entry = RecallEntry.model_validate_json(f.read(end - start))
        if entry.run_id != loaded.matrix.run_ids[i]:
            raise ValueError(f"row {i} of the side file is not {entry.run_id} in the index")
        return entry

    def _all(self) -> list[RecallEntry]:
        """Every entry, validated; the index is rebuilt when one is damaged."""
        loaded = self._cache
        try:
            raw = loaded.raw if loaded is not None and loaded.raw is not None else self._read_raw()
            return [RecallEntry.model_validate(r) for r in raw]
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("recall index %s unreadable (%s): rebuilt from the run folders", self.path, e)
            return self.rebuild()

    def _matrix(self) -> SignatureMatrix:
        """The signatures of the index as it is on disk, in step with the run folders."""
        key = self._key()
        if self._cache is None or self._cache.key != key:
            self._load(key)
        return self._synced()

    def _load(self, key: tuple[int, int]) -> None:
        """From the side file when it was made from this index; else from the index, whose entries are written
        again with a new side file; else (missing or unreadable) from the run folders."""
        token = index_token(self.path)
        matrix = SignatureMatrix.load_side(self.side_path, token, key[1])
        if matrix is not None:
            self._cache = _Loaded(key, token, matrix, None)
            return
        try:
            raw = self._read_raw()
            self._write([RecallEntry.model_validate(r) for r in raw])
        except FileNotFoundError:
            self.rebuild() if self.runs_dir is not None else self._write([])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            log.warning("recall index %s unreadable (%s): rebuilt from the run folders", self.path, e)
            self.rebuild()

    def _synced(self) -> SignatureMatrix:
        """The loaded matrix, after indexing run folders that appeared behind the index's back and dropping
        the entries of folders that are gone (a folder that is not a finished run is looked at again next time)."""
        assert self._cache is not None
        matrix = self._cache.matrix
        if self.runs_dir is None:
            return matrix
        listed, known = self._run_folders(), set(matrix.run_ids)
        gone = known - listed
        new = [e for name in sorted(listed - known) if (e := entry_from_folder(self.runs_dir / name)) is not None]
        if gone or new:
            log.info("recall index %s: %d run folders indexed, %d gone", self.path, len(new), len(gone))
            self._write([e for e in self._all() if e.run_id not in gone] + new)
        return self._cache.matrix

    def _run_folders(self) -> set[str]:
        if self.runs_dir is None or not self.runs_dir.is_dir():
            return set()
        with os.scandir(self.runs_dir) as found:
            return {d.name for d in found if not d.name.startswith(".") and d.is_dir()}

    def _read_raw(self) -> list[dict[str, Any]]:
        raw = json.loads(self.path.read_bytes())["entries"]
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            raise ValueError("entries is not a list of objects")
        return raw

    def _key(self) -> tuple[int, int]:
        try:
            stat = self.path.stat()
            return stat.st_mtime_ns, stat.st_size
        except OSError:
            return (0, 0)

    def _write(self, entries: list[RecallEntry]) -> None:
        raw = [e.model_dump(mode="json") for e in entries]
        blob, token, offsets = encode_index(INDEX_VERSION, raw)
        matrix = SignatureMatrix.from_entries(raw, offsets)
        try:
            write_atomic(self.path, blob)
            write_atomic(self.side_path, matrix.side_bytes(token, len(blob)))
        except OSError as e:  # a read-only memory folder: recall goes on from memory, the runs are unharmed
            log.warning("recall index %s not written: %s", self.path, e)
        self._cache = _Loaded(self._key(), token, matrix, raw)


class _Loaded(NamedTuple):
    key: tuple[int, int]  # the index file's mtime and size when loaded
    token: str | None
    matrix: SignatureMatrix
    raw: list[dict[str, Any]] | None  # the entries as JSON values when the index was parsed whole

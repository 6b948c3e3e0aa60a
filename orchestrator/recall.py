"""Cross-run memory: programs that scored well, kept with their task text and a render hash.

One JSON file per remembered program in a global folder; a new task retrieves the entries whose
task text shares the most words with it (Jaccard overlap of word sets) as examples for the builder.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel, Field

from orchestrator.artifacts import read_json, write_json

__all__ = ["RecallEntry", "RecallStore", "render_hash"]

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an the of with and or on in to is it its at by for from as that this".split())


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def render_hash(path: Path) -> str | None:
    """A 64-bit difference hash of a render (hex), or None if it cannot be read."""
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        return None
    small = cv2.resize(img, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


class RecallEntry(BaseModel):
    task_name: str
    task_text: str
    code: str
    score: float
    render_hash: str | None = None
    run_id: str = ""
    saved_at: float = Field(default_factory=time.time)


class RecallStore:
    def __init__(self, root: Path, min_score: float = 0.5) -> None:
        self.root = root
        self.min_score = min_score

    def remember(self, entry: RecallEntry) -> Path | None:
        """Keep a program that scored at least `min_score` (same task text + code stored once)."""
        if entry.score < self.min_score or not entry.code.strip():
            return None
        key = hashlib.sha256(f"{entry.task_text}\0{entry.code}".encode()).hexdigest()[:20]
        return write_json(self.root / f"{key}.json", entry)

    def entries(self) -> list[RecallEntry]:
        if not self.root.is_dir():
            return []
        out = []
        for path in sorted(self.root.glob("*.json")):
            try:
                out.append(RecallEntry.model_validate(read_json(path)))
            except (ValueError, OSError):
                continue  # a damaged entry is skipped, never fatal
        return out

    def similar(self, task_text: str, k: int = 2, min_similarity: float = 0.2) -> list[tuple[float, RecallEntry]]:
        """The k most similar remembered tasks (similarity, entry), best first."""
        query = _words(task_text)
        scored = []
        for entry in self.entries():
            words = _words(entry.task_text)
            sim = len(query & words) / len(query | words) if query | words else 0.0
            if sim >= min_similarity:
                scored.append((sim, entry))
        scored.sort(key=lambda se: (-se[0], -se[1].score))
        return scored[:k]

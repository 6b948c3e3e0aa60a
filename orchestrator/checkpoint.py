"""Checkpoints: each attempt's typed state in a diskcache under the run folder, after every iteration.

diskcache commits each `set` in one SQLite transaction, so a SIGKILL at any moment leaves either
the previous checkpoint or the new one — never half of one. Resume reads the attempts back and
the loop continues after their last completed iteration.
"""

from __future__ import annotations

from pathlib import Path

import diskcache

from orchestrator.state import AttemptState

__all__ = ["Checkpoint"]


class Checkpoint:
    def __init__(self, run_dir: Path) -> None:
        self._cache = diskcache.Cache(str(run_dir / "checkpoint"))

    def save(self, state: AttemptState) -> None:
        self.put(state.index, state.model_dump_json())

    def put(self, attempt: int, frozen: str) -> None:
        """Store a state serialised earlier (the loop freezes it, a writer thread stores it)."""
        self._cache.set(f"attempt/{attempt:03d}", frozen)

    def load(self) -> dict[int, AttemptState]:
        out: dict[int, AttemptState] = {}
        for key in self._cache.iterkeys():
            if isinstance(key, str) and key.startswith("attempt/"):
                raw = self._cache.get(key)
                if raw is not None:
                    state = AttemptState.model_validate_json(raw)
                    out[state.index] = state
        return dict(sorted(out.items()))

    def close(self) -> None:
        self._cache.close()

    @classmethod
    def read(cls, run_dir: Path) -> dict[int, AttemptState]:
        """The attempts of a run this process is not writing (opened, loaded and closed again)."""
        checkpoint = cls(run_dir)
        try:
            return checkpoint.load()
        finally:
            checkpoint.close()

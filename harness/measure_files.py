"""A measured render's side files: `<view>.mask.png` and `<view>.measure.json` beside `<view>.png`.

Whoever stores a pack's PNGs (the gateway's scene, for a local or a remote worker alike: the mask
travels in the result as base64) stores these with them, so the vision server finds them by path.
"""

from __future__ import annotations

import base64
from pathlib import Path

from harness.measure_types import MASK_SUFFIX, MEASURE_SUFFIX, SceneMeasure

__all__ = ["write_side_files"]


def write_side_files(measure: SceneMeasure | None, dest_dir: Path) -> None:
    """Each view's mask and measurement beside `dest_dir/<view>.png`, written under temporary names then renamed."""
    if measure is None:
        return
    for view, measured in measure.views.items():
        if measured.mask_png is not None:
            _write(dest_dir / f"{view}{MASK_SUFFIX}", base64.b64decode(measured.mask_png))
        _write(dest_dir / f"{view}{MEASURE_SUFFIX}",
               measured.model_dump_json(exclude={"mask_png"}).encode("utf-8"))


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)

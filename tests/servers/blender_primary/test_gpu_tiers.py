"""A.3's GPU tiers on the real Cycles of the bpy wheel. The GPUs are faked where Cycles itself reports them
(`_cycles.get_device_types` / `_cycles.available_devices`, which the Cycles add-on's preferences read) and VRAM
where it comes from (an `nvidia-smi` on PATH), in a Blender process of its own; this machine's own CPU
fallback is rendered for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.scene_types import RenderSettings
from servers.blender_primary.render import render_views

PROJECT = Path(__file__).resolve().parents[3]
CARD = "NVIDIA GeForce RTX 5090"
FAKE_GPU = f"""
import json, bpy, _cycles  # the Cycles add-on's own module, loaded with bpy
_cycles.get_device_types = lambda: (True, True, False, False, False, False)  # CUDA and OptiX drivers present
cpu = _cycles.available_devices("CPU")
_cycles.available_devices = lambda kind: cpu + (
    (({CARD!r}, kind, kind + "_0000:01:00", False, True, True, False, True),) if kind in ("CUDA", "OPTIX") else ())
from harness.scene_types import RenderSettings
from servers.blender_primary.render_state import RenderSession
rows = {{}}
for tier in ("preview", "production", "final", None):
    with RenderSession(bpy.context.scene, RenderSettings(preset="final", tier=tier, views=["front"])) as session:
        c = bpy.context.scene.cycles
        prefs = bpy.context.preferences.addons["cycles"].preferences
        rows[str(tier)] = [c.device, c.samples, c.tile_size, prefs.compute_device_type, session.device.describe(),
                           [d.name for d in prefs.devices if d.use]]
print("ROWS" + json.dumps(rows))
"""


def _fake_gpu(tmp_path: Path, vram_mb: int) -> dict[str, list]:
    smi = tmp_path / "nvidia-smi"
    smi.write_text(f"#!/bin/sh\necho '{CARD}, {vram_mb}'\n")
    smi.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-c", FAKE_GPU], capture_output=True, text=True, timeout=120, cwd=PROJECT, env=env)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("ROWS")), None)
    assert line is not None, done.stderr[-2000:]
    return json.loads(line[4:])


@pytest.mark.skipif(sys.platform == "win32", reason="the fake nvidia-smi is a shell script")
@pytest.mark.parametrize(("vram_mb", "tile", "samples"), [(32607, 512, (128, 256, 512)), (24576, 256, (64, 128, 256)),
                                                         (8192, 256, (32, 64, 128))])
def test_a_gpu_renders_each_tier_with_the_samples_and_tile_size_of_its_vram(tmp_path, vram_mb, tile, samples):
    rows = _fake_gpu(tmp_path, vram_mb)
    for tier, expected in zip(("preview", "production", "final"), samples):
        device, got, tile_size, backend, described, used = rows[tier]
        assert (device, got, tile_size, backend) == ("GPU", expected, tile, "OPTIX"), tier
        assert CARD in used and described == f"GPU (OPTIX: {CARD}), {expected} samples ({tier}, tile {tile})"
    assert rows["None"][1] == samples[2], "a render naming no tier is a final one"


def test_without_a_gpu_every_tier_renders_on_the_cpu_with_its_default_samples(tmp_path):
    result = render_views(RenderSettings(preset="final", tier="preview", views=["front"], resolution=16), tmp_path)
    assert result.cycles is not None and result.cycles.describe() == "CPU, 32 samples (preview)"
    assert (tmp_path / "front.png").is_file()
    assert render_views(RenderSettings(preset="preview", views=["front"], resolution=16), tmp_path).cycles is None

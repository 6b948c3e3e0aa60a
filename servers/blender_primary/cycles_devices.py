"""The GPUs Cycles can use on this node, found once per process, and the choice applied (harness.gpu_presets).

Cycles lists devices per backend (`get_devices_for_type`); a backend whose driver library is missing
lists none, which is how a machine without a GPU falls back to the CPU. Cycles does not report VRAM:
it comes from `nvidia-smi` for NVIDIA cards and is unknown elsewhere (the smallest GPU preset).
"""

from __future__ import annotations

import functools
import shutil
import subprocess

import bpy

from harness.gpu_presets import BACKENDS, CyclesDevice, GpuDevice, Tier, choose, parse_nvidia_smi

__all__ = ["cycles_device"]

SMI_TIMEOUT_S = 5.0


def cycles_device(cpu_samples: int, tier: Tier = "final") -> CyclesDevice:
    """The device to render on at `tier`; when a GPU, its backend and devices are enabled in the preferences."""
    choice = choose(list(_found()), cpu_samples, tier)
    if choice.device == "GPU":  # preferences, not scene data: set on every render, a factory reset clears them
        prefs = bpy.context.preferences.addons["cycles"].preferences
        prefs.compute_device_type = choice.backend
        for device in prefs.get_devices_for_type(choice.backend):
            device.use = device.type == choice.backend
    return choice


@functools.cache
def _found() -> tuple[GpuDevice, ...]:
    prefs = bpy.context.preferences.addons["cycles"].preferences
    vram = _nvidia_vram()
    found = []
    for backend in BACKENDS:
        try:
            devices = prefs.get_devices_for_type(backend)
        except (TypeError, ValueError, RuntimeError):  # a backend this build does not know
            continue
        found += [GpuDevice(backend=backend, name=d.name, vram_mb=vram.get(d.name) if backend in ("OPTIX", "CUDA") else None)
                  for d in devices if d.type == backend]
    return tuple(found)


def _nvidia_vram() -> dict[str, int]:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return {}
    try:
        done = subprocess.run([smi, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=SMI_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return {}
    return parse_nvidia_smi(done.stdout)

"""Which device Cycles renders the `final` preset on, and with how many samples (seed 001 A.3).

servers/blender_primary/cycles_devices.py lists the GPUs Cycles can use; this module decides, without
Blender, so the rule is testable on a machine with no GPU. OptiX comes before CUDA (the same NVIDIA
cards, faster with RT cores), then HIP (AMD), oneAPI (Intel) and Metal (Apple); no GPU means the CPU,
which keeps the preset's own default samples so CPU renders stay exactly what they were. On a GPU
the samples grow with VRAM as in A.3 (24 GB: 256, 32 GB: 512 for final renders); unknown or smaller
VRAM gets the smallest GPU preset, and with several GPUs the smallest card decides (every card renders).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

__all__ = ["BACKENDS", "GPU_FINAL_SAMPLES", "GpuDevice", "CyclesDevice", "choose", "parse_nvidia_smi"]

BACKENDS = ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL")  # Cycles' compute_device_type values, best first
GPU_FINAL_SAMPLES = ((32 * 1024, 512), (24 * 1024, 256), (0, 128))  # (VRAM MiB at least, samples), largest first


class GpuDevice(BaseModel):
    backend: str
    name: str
    vram_mb: int | None = None


class CyclesDevice(BaseModel):
    """Cycles' `device` for the scene, the compute backend to enable, its devices, and the final samples."""

    device: Literal["CPU", "GPU"]
    backend: str = "NONE"
    devices: list[str] = []
    samples: int


def choose(found: list[GpuDevice], cpu_samples: int) -> CyclesDevice:
    """The best backend among the GPUs found, or the CPU (with `cpu_samples`) when there are none."""
    for backend in BACKENDS:
        gpus = [d for d in found if d.backend == backend]
        if gpus:
            known = [d.vram_mb for d in gpus if d.vram_mb is not None]
            vram = min(known) if len(known) == len(gpus) else 0
            samples = next(s for floor, s in GPU_FINAL_SAMPLES if vram >= floor)
            return CyclesDevice(device="GPU", backend=backend, devices=[d.name for d in gpus], samples=samples)
    return CyclesDevice(device="CPU", samples=cpu_samples)


def parse_nvidia_smi(output: str) -> dict[str, int]:
    """Card name → VRAM MiB from `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`."""
    vram: dict[str, int] = {}
    for line in output.splitlines():
        name, _, total = line.rpartition(",")
        if name.strip() and total.strip().isdigit():
            vram[name.strip()] = min(int(total), vram.get(name.strip(), int(total)))
    return vram

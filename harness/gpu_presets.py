"""Which device Cycles renders on, and with how many samples and what tile size (seed 001 A.3).

servers/blender_primary/cycles_devices.py lists the GPUs Cycles can use; this module decides, without
Blender, so the rule is testable on a machine with no GPU. OptiX comes before CUDA (the same NVIDIA
cards, faster with RT cores), then HIP (AMD), oneAPI (Intel) and Metal (Apple); no GPU means the CPU,
which keeps the preset's own default samples so CPU renders stay exactly what they were. On a GPU
the samples and tile size grow with VRAM, per tier, as in A.3's table:

    VRAM      tile   preview / production / final
    32 GB     512    128 / 256 / 512
    24 GB     256     64 / 128 / 256
    smaller   256     32 /  64 / 128   (or unknown VRAM: every GPU has at least this)

The loop renders at `preview` (a task may ask for `production`); a render that names no tier is a
`final` one. With several GPUs the smallest card decides (every card renders).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

__all__ = ["BACKENDS", "GPU_TIERS", "Tier", "GpuTier", "GpuDevice", "CyclesDevice", "choose", "parse_nvidia_smi"]

BACKENDS = ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL")  # Cycles' compute_device_type values, best first
Tier = Literal["preview", "production", "final"]


class GpuTier(BaseModel):
    """One row of A.3's table: from this much VRAM on, this tile size and these samples per tier."""

    min_vram_mb: int
    tile_size: int
    preview: int
    production: int
    final: int


# a card sold as N GB reports a little less (an RTX 5090: 32607 MiB, a 4090: 24564 MiB): the floors allow 1 GB
GPU_TIERS = (GpuTier(min_vram_mb=31 * 1024, tile_size=512, preview=128, production=256, final=512),
             GpuTier(min_vram_mb=23 * 1024, tile_size=256, preview=64, production=128, final=256),
             GpuTier(min_vram_mb=0, tile_size=256, preview=32, production=64, final=128))  # largest first


class GpuDevice(BaseModel):
    backend: str
    name: str
    vram_mb: int | None = None


class CyclesDevice(BaseModel):
    """Cycles' `device` for the scene, the compute backend to enable, its devices, the tier's samples and
    tile size (None on the CPU: Cycles' own), and the VRAM that chose them."""

    device: Literal["CPU", "GPU"]
    backend: str = "NONE"
    devices: list[str] = []
    samples: int
    tier: Tier = "final"
    tile_size: int | None = None
    vram_mb: int | None = None

    def describe(self) -> str:
        where = f"GPU ({self.backend}: {', '.join(self.devices)})" if self.device == "GPU" else "CPU"
        tile = f", tile {self.tile_size}" if self.tile_size else ""
        return f"{where}, {self.samples} samples ({self.tier}{tile})"


def choose(found: list[GpuDevice], cpu_samples: int, tier: Tier = "final") -> CyclesDevice:
    """The best backend among the GPUs found with `tier`'s samples for their VRAM, or the CPU (with
    `cpu_samples`, whatever the tier) when there are none."""
    for backend in BACKENDS:
        gpus = [d for d in found if d.backend == backend]
        if gpus:
            known = [d.vram_mb for d in gpus if d.vram_mb is not None]
            vram = min(known) if len(known) == len(gpus) else 0
            row = next(r for r in GPU_TIERS if vram >= r.min_vram_mb)
            return CyclesDevice(device="GPU", backend=backend, devices=[d.name for d in gpus], samples=getattr(row, tier),
                                tier=tier, tile_size=row.tile_size, vram_mb=vram or None)
    return CyclesDevice(device="CPU", samples=cpu_samples, tier=tier)


def parse_nvidia_smi(output: str) -> dict[str, int]:
    """Card name → VRAM MiB from `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`."""
    vram: dict[str, int] = {}
    for line in output.splitlines():
        name, _, total = line.rpartition(",")
        if name.strip() and total.strip().isdigit():
            vram[name.strip()] = min(int(total), vram.get(name.strip(), int(total)))
    return vram

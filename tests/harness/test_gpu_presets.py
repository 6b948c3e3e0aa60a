"""The choice of Cycles device and samples for `final` renders, from the GPUs a node reports."""

from __future__ import annotations

import pytest

from harness.gpu_presets import GpuDevice, choose, parse_nvidia_smi

CPU_SAMPLES = 32


def test_no_gpu_falls_back_to_the_cpu_with_the_presets_own_samples() -> None:
    assert choose([], CPU_SAMPLES).model_dump() == {"device": "CPU", "backend": "NONE", "devices": [], "samples": 32,
                                                    "tier": "final", "tile_size": None, "vram_mb": None}


def test_optix_is_preferred_to_cuda_for_the_same_nvidia_card() -> None:
    card = "NVIDIA GeForce RTX 3090"
    found = [GpuDevice(backend="CUDA", name=card, vram_mb=24576), GpuDevice(backend="OPTIX", name=card, vram_mb=24576)]
    choice = choose(found, CPU_SAMPLES)
    assert (choice.device, choice.backend, choice.devices) == ("GPU", "OPTIX", [card])


def test_an_amd_card_renders_with_hip() -> None:
    choice = choose([GpuDevice(backend="HIP", name="AMD Radeon RX 7900 XTX")], CPU_SAMPLES)
    assert (choice.device, choice.backend, choice.samples) == ("GPU", "HIP", 128)


@pytest.mark.parametrize("vram_mb, samples", [(32607, 512), (24564, 256), (23 * 1024 - 1, 128), (8192, 128),
                                              (None, 128)])
def test_final_samples_grow_with_vram_as_in_the_a3_presets(vram_mb: int | None, samples: int) -> None:
    assert choose([GpuDevice(backend="CUDA", name="card", vram_mb=vram_mb)], CPU_SAMPLES).samples == samples


@pytest.mark.parametrize("tier, samples", [("preview", (128, 64, 32)), ("production", (256, 128, 64)),
                                           ("final", (512, 256, 128))])
def test_each_tier_has_the_samples_of_a3s_table_and_the_cpu_keeps_its_own(tier, samples) -> None:
    got = [choose([GpuDevice(backend="CUDA", name="card", vram_mb=v)], CPU_SAMPLES, tier) for v in (32607, 24576, 8192)]
    assert tuple(c.samples for c in got) == samples and [c.tile_size for c in got] == [512, 256, 256]
    assert choose([], CPU_SAMPLES, tier).samples == CPU_SAMPLES and choose([], CPU_SAMPLES, tier).tile_size is None


def test_with_several_cards_the_smallest_or_an_unknown_one_decides() -> None:
    big, small = GpuDevice(backend="CUDA", name="a", vram_mb=32768), GpuDevice(backend="CUDA", name="b", vram_mb=24576)
    assert choose([big, small], CPU_SAMPLES).samples == 256
    assert choose([big, GpuDevice(backend="CUDA", name="c")], CPU_SAMPLES).samples == 128


def test_nvidia_smi_output_gives_vram_per_card_name() -> None:
    output = "NVIDIA GeForce RTX 5090, 32607\nNVIDIA GeForce RTX 3090, 24576\nNo devices were found\n"
    assert parse_nvidia_smi(output) == {"NVIDIA GeForce RTX 5090": 32607, "NVIDIA GeForce RTX 3090": 24576}

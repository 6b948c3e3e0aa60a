"""GPU detection against the real Cycles of the bpy wheel: with no GPU here, `final` falls back to the CPU."""

from __future__ import annotations

from typing import Any

import bpy
from fastmcp import Client

from servers.blender_primary.cycles_devices import cycles_device
from servers.blender_primary.render_state import PRESET_DEFAULT_SAMPLES


def test_a_machine_without_a_gpu_renders_final_on_the_cpu() -> None:
    choice = cycles_device(PRESET_DEFAULT_SAMPLES)
    assert (choice.device, choice.backend, choice.samples) == ("CPU", "NONE", PRESET_DEFAULT_SAMPLES)
    assert bpy.context.preferences.addons["cycles"].preferences.compute_device_type == "NONE"


async def test_a_final_render_uses_the_detected_device_and_leaves_the_scene_as_it_was(client: Client, bpy_eval: Any) -> None:
    before = await bpy_eval("import bpy, json\nprint(json.dumps(bpy.context.scene.cycles.device))")
    pack = await client.call_tool("render_pack", {"views": ["front"], "preset": "final", "resolution": 16, "samples": 1})
    assert pack.structured_content["views"]["front"]["path"].endswith("front.png")
    assert await bpy_eval("import bpy, json\nprint(json.dumps(bpy.context.scene.cycles.device))") == before

"""render_pack: images per view, deterministic pixels, framing, and a scene left exactly as it was."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import cv2
import numpy as np
from fastmcp import Client

from harness.scene_types import ExecutedRender, RenderPackResult, SceneInfo

SCENE = """
bpy.ops.mesh.primitive_plane_add(size=6)
bpy.ops.mesh.primitive_cube_add(location=(0, 0, 1))
mat = bpy.data.materials.new("Red")
mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.9, 0.05, 0.05, 1)
bpy.context.object.data.materials.append(mat)
"""

STATE = """
import json
s = bpy.context.scene
print(json.dumps({
    "objects": sorted(o.name for o in bpy.data.objects),
    "cameras": len(bpy.data.cameras), "lights": len(bpy.data.lights),
    "camera": s.camera.name if s.camera else None,
    "engine": s.render.engine, "res": [s.render.resolution_x, s.render.resolution_y, s.render.resolution_percentage],
    "format": s.render.image_settings.file_format, "filepath": s.render.filepath,
    "stamp": s.render.use_stamp_date, "seed": s.cycles.seed, "samples": s.cycles.samples,
    "diffuse": [list(m.diffuse_color) for m in bpy.data.materials],
}))
"""


def digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


async def pack(client: Client, **settings) -> tuple[RenderPackResult, list]:
    result = await client.call_tool("render_pack", settings)
    return RenderPackResult.model_validate(result.structured_content), result.content


async def test_each_view_comes_back_as_an_image_and_a_png_on_disk(client: Client, bpy_eval) -> None:
    await bpy_eval(SCENE)
    result, content = await pack(client, views=["front", "side", "top", "iso", "back", "left"], resolution=64)
    assert list(result.views) == ["front", "side", "top", "iso", "back", "left"]
    assert [c.type for c in content] == ["image"] * 6 and content[0].mime_type == "image/png"
    for block, view in zip(content, result.views.values(), strict=True):
        assert base64.b64decode(block.data) == Path(view.path).read_bytes()
        assert cv2.imread(view.path).shape == (64, 64, 3)


async def test_same_scene_and_settings_give_identical_pixels(client: Client, bpy_eval) -> None:
    await bpy_eval(SCENE)
    first, _ = await pack(client, resolution=96)
    second, _ = await pack(client, resolution=96)
    assert first.views["front"].path != second.views["front"].path
    assert {v: digest(r.path) for v, r in first.views.items()} == {v: digest(r.path) for v, r in second.views.items()}
    assert len({digest(r.path) for r in first.views.values()}) == 4  # the views differ from each other


async def test_final_preset_is_deterministic_cycles(client: Client, bpy_eval) -> None:
    await bpy_eval(SCENE)
    first, _ = await pack(client, views=["iso"], preset="final", resolution=32, samples=2)
    second, _ = await pack(client, views=["iso"], preset="final", resolution=32, samples=2)
    assert digest(first.views["iso"].path) == digest(second.views["iso"].path)
    assert sorted(first.added_for_render) == ["colossus_pack_camera", "colossus_pack_sun"]


async def test_render_leaves_no_camera_light_or_setting_behind(client: Client, bpy_eval) -> None:
    await bpy_eval(SCENE)
    before = await bpy_eval(STATE)
    await pack(client, resolution=32)
    await pack(client, views=["top"], preset="final", resolution=32, samples=1)
    assert await bpy_eval(STATE) == before
    assert before["camera"] is None and before["cameras"] == 0


async def test_scene_camera_and_light_are_kept_and_restored(client: Client, bpy_eval) -> None:
    await bpy_eval(SCENE + "bpy.ops.object.camera_add(location=(0, -9, 2))\nbpy.context.scene.camera = bpy.context.object\nbpy.ops.object.light_add(type='POINT')\n")
    before = await bpy_eval(STATE)
    result, _ = await pack(client, views=["front"], preset="final", resolution=32, samples=1)
    assert result.added_for_render == ["colossus_pack_camera"]  # the scene has a light: no sun added
    assert await bpy_eval(STATE) == before and before["camera"] == "Camera"


async def test_preview_shows_the_principled_base_colour(client: Client, bpy_eval) -> None:
    await bpy_eval(SCENE)
    result, _ = await pack(client, views=["top"], resolution=64)
    b, g, r = cv2.imread(result.views["top"].path)[32, 32].astype(int)
    assert r > 120 and r > 2 * g and r > 2 * b


async def test_preview_keeps_a_viewport_colour_when_the_base_colour_is_untouched(client: Client, bpy_eval) -> None:
    await bpy_eval("""
bpy.ops.mesh.primitive_cube_add(location=(0, 0, 1))
mat = bpy.data.materials.new("Green")
mat.diffuse_color = (0.05, 0.8, 0.05, 1)
bpy.context.object.data.materials.append(mat)
""")
    result, _ = await pack(client, views=["top"], resolution=64)
    b, g, r = cv2.imread(result.views["top"].path)[32, 32].astype(int)
    assert g > 120 and g > r + 50 and g > b + 50  # grey (the bug) has r ≈ g ≈ b


async def test_auto_framing_fits_a_far_small_object_while_fixed_framing_misses_it(client: Client, bpy_eval) -> None:
    await bpy_eval("bpy.ops.mesh.primitive_cube_add(size=0.5, location=(30, 30, 0))\n")
    auto, _ = await pack(client, views=["front"], framing="auto", resolution=64)
    fixed, _ = await pack(client, views=["front"], framing="fixed", resolution=64)
    assert auto.settings.target == (30.0, 30.0, 0.0)

    def covered(path: str) -> float:
        image = cv2.imread(path).astype(int)
        return float(np.mean(np.abs(image - image[0, 0]).sum(axis=2) > 30))

    assert 0.05 < covered(auto.views["front"].path) < 0.9
    assert covered(fixed.views["front"].path) == 0.0


async def test_render_can_report_the_rendered_scene_facts_in_the_same_call(client: Client, bpy_eval) -> None:
    await bpy_eval(SCENE)
    plain, _ = await pack(client, views=["top"], resolution=32)
    assert plain.scene is None
    with_facts, _ = await pack(client, views=["top"], resolution=32, with_scene_info=True)
    info = await client.call_tool("get_scene_info", {})
    assert with_facts.scene is not None
    assert with_facts.scene.model_dump() == SceneInfo.model_validate(info.structured_content).model_dump()
    assert {o.name for o in with_facts.scene.objects} == {"Plane", "Cube"}  # the pack camera is not in it


async def test_execute_and_render_renders_only_what_ran_cleanly(client: Client) -> None:
    async def run(code: str) -> tuple[ExecutedRender, list]:
        result = await client.call_tool("execute_and_render", {"code": code, "views": ["front", "top"],
                                                               "resolution": 32, "with_scene_info": True})
        return ExecutedRender.model_validate(result.structured_content), result.content

    done, images = await run("bpy.ops.mesh.primitive_cube_add()")
    assert done.report.success and done.render is not None and done.render_error is None
    assert [i.type for i in images] == ["image", "image"] and set(done.render.views) == {"front", "top"}
    assert [o.name for o in done.render.scene.objects] == ["Cube"]
    failed, images = await run("bpy.ops.mesh.primitive_cube_add()\nraise ValueError('wrong')")
    assert not failed.report.success and failed.report.exception.type == "ValueError"
    assert failed.render is None and failed.render_error is None and images == []
    unrenderable, images = await run("r = bpy.context.scene.render\nr.use_border = True\nr.border_min_x = r.border_max_x = 0.5")
    assert unrenderable.report.success and unrenderable.render is None and images == []
    assert unrenderable.render_error.startswith("[RENDER_ERROR]")


async def test_a_look_from_an_orbit_angle_a_close_up_and_an_isolated_object_leave_the_scene_as_it_was(client, tmp_path):
    """The verifier's extra looks: an orbited camera sees the other side, focus_objects frames one object,
    isolate renders it alone; none of them changes the scene or the named views."""
    import cv2
    import numpy as np

    code = ("bpy.ops.mesh.primitive_cube_add(size=1, location=(-1.5, 0, 0.5)); bpy.context.active_object.name = 'Big'\n"
            "bpy.ops.mesh.primitive_uv_sphere_add(radius=0.2, location=(1.5, 0, 0.2)); bpy.context.active_object.name = 'Small'")
    assert (await client.call_tool("execute_code", {"code": code})).structured_content["success"]

    async def look(**options):
        result = await client.call_tool("render_pack", {"views": ["front"], "resolution": 64, "images": False, **options})
        path = result.structured_content["views"]["front"]["path"]
        return cv2.imread(path, cv2.IMREAD_GRAYSCALE)

    def subject(image):  # the pixels that differ from the background's corner colour
        return np.abs(image.astype(int) - int(image[0, 0])) > 12

    plain = await look()
    turned = await look(orbit=[90, 0])  # from the side: the two objects line up behind each other
    assert subject(turned).any(axis=0).sum() < subject(plain).any(axis=0).sum() * 0.7
    close = await look(framing="auto", focus_objects=["Small"])
    assert subject(close).mean() > subject(plain).mean() * 2, "the small sphere fills the frame"
    alone = await look(focus_objects=["Small"], isolate=True)  # the named view, the cube hidden
    half = plain.shape[1] // 2
    assert subject(alone)[:, half:].sum() == subject(plain)[:, half:].sum() > 0 and not subject(alone)[:, :half].any()
    assert (await look() == plain).all(), "looks left the scene and the named view as they were"
    failed = await client.call_tool("render_pack", {"views": ["front"], "resolution": 32, "focus_objects": ["Nope"]},
                                    raise_on_error=False)
    assert failed.is_error and "no object named 'Nope'" in failed.content[0].text and "Big" in failed.content[0].text

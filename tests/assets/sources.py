"""Source files for finalize tests, written by Blender's own exporters in a separate bpy process.

The mesh is a sphere with displaced bumps (real detail for a normal bake) and two materials: a
procedural noise colour and a metallic one, so the PBR bake has something to carry over.
A child process keeps this Blender session out of the test process's own bpy state.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

__all__ = ["FORMATS", "write_sources", "write_million_triangle_stl"]

FORMATS = ("obj", "fbx", "glb", "gltf", "stl", "ply", "blend")

SCRIPT = r'''
import sys, bpy
out = sys.argv[-1]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.mesh.primitive_uv_sphere_add(segments=48, ring_count=24, radius=0.5, location=(0.3, -0.2, 1.0))
obj = bpy.context.active_object
obj.name = "bumpy"
obj.modifiers.new("sub", "SUBSURF").levels = 1
tex = bpy.data.textures.new("bumps", "VORONOI")
tex.noise_scale = 0.15
disp = obj.modifiers.new("disp", "DISPLACE")
disp.texture, disp.strength = tex, 0.08
bpy.ops.object.convert(target="MESH")
paint = bpy.data.materials.new("paint")
tree = paint.node_tree
noise = tree.nodes.new("ShaderNodeTexNoise")
noise.inputs["Scale"].default_value = 8.0
tree.links.new(noise.outputs["Color"], tree.nodes["Principled BSDF"].inputs["Base Color"])
steel = bpy.data.materials.new("steel")
steel.node_tree.nodes["Principled BSDF"].inputs["Metallic"].default_value = 0.9
steel.node_tree.nodes["Principled BSDF"].inputs["Roughness"].default_value = 0.2
obj.data.materials.append(paint)
obj.data.materials.append(steel)
for poly in obj.data.polygons:
    poly.material_index = int(poly.center.z > 0.0)  # local space: the top half is steel
bpy.ops.mesh.primitive_cube_add(size=1.0)
bpy.context.active_object.name = "plain_cube"
cube = bpy.context.active_object
for o in bpy.context.scene.objects:
    o.select_set(o is obj)
bpy.context.view_layer.objects.active = obj
kw = dict(use_selection=True)
bpy.ops.wm.obj_export(filepath=f"{out}/bumpy.obj", export_selected_objects=True)
bpy.ops.export_scene.fbx(filepath=f"{out}/bumpy.fbx", **kw)
bpy.ops.export_scene.gltf(filepath=f"{out}/bumpy.glb", export_format="GLB", **kw)
bpy.ops.export_scene.gltf(filepath=f"{out}/bumpy.gltf", export_format="GLTF_SEPARATE", **kw)
bpy.ops.wm.stl_export(filepath=f"{out}/bumpy.stl", export_selected_objects=True)
bpy.ops.wm.ply_export(filepath=f"{out}/bumpy.ply", export_selected_objects=True)
for o in bpy.context.scene.objects:
    o.select_set(o is cube)
bpy.ops.wm.obj_export(filepath=f"{out}/plain_cube.obj", export_selected_objects=True)
bpy.data.objects.remove(cube)
bpy.ops.object.camera_add()
bpy.ops.wm.save_as_mainfile(filepath=f"{out}/bumpy.blend", compress=False)
for o in list(bpy.data.objects):
    if o.type == "MESH":
        bpy.data.objects.remove(o)
bpy.ops.object.light_add(type="SUN")
bpy.ops.wm.save_as_mainfile(filepath=f"{out}/camera_only.blend", compress=False)
'''


def write_sources(folder: Path) -> dict[str, Path]:
    """bumpy.<format> for every format, plus plain_cube.obj and camera_only.blend; name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", SCRIPT, str(folder)], check=True, capture_output=True, timeout=120)
    files = {fmt: folder / f"bumpy.{fmt}" for fmt in FORMATS}
    files |= {"plain_cube": folder / "plain_cube.obj", "camera_only": folder / "camera_only.blend"}
    missing = [str(p) for p in files.values() if not p.is_file()]
    assert not missing, f"the source script did not write {missing}"
    return files


def write_million_triangle_stl(path: Path, per_side: int = 708) -> int:
    """A binary STL heightfield of 2·per_side² triangles (~1M): a rippled sheet; returns the triangle count."""
    u = np.linspace(-1, 1, per_side + 1)
    x, y = np.meshgrid(u, u)
    z = 0.05 * np.sin(12 * x) * np.cos(9 * y)
    grid = np.stack([x, y, z], axis=-1).astype(np.float32)
    a, b, c, d = grid[:-1, :-1], grid[:-1, 1:], grid[1:, 1:], grid[1:, :-1]
    tris = np.concatenate([np.stack([a, b, c], axis=2), np.stack([a, c, d], axis=2)]).reshape(-1, 3, 3)
    records = np.zeros(len(tris), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    records["v"] = tris
    with path.open("wb") as f:
        f.write(b"colossus test heightfield".ljust(80, b" "))
        f.write(struct.pack("<I", len(tris)))
        f.write(records.tobytes())
    return len(tris)

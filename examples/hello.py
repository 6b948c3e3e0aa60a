"""A small scene to check the whole chain: an orange monkey and a teal ball on a grey floor.

Run it with `colossus render examples/hello.py --out runs/hello`.
"""

import bpy


def material(name, rgb, roughness=0.5):
    mat = bpy.data.materials.new(name)
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    return mat


world = bpy.data.worlds.new("Sky")
world.color = (0.55, 0.65, 0.8)
bpy.context.scene.world = world

bpy.ops.mesh.primitive_plane_add(size=5.0, location=(0.0, 0.0, 0.0))
bpy.context.object.name = "Floor"
bpy.context.object.data.materials.append(material("Floor", (0.55, 0.55, 0.58), 0.9))

bpy.ops.mesh.primitive_monkey_add(size=1.4, location=(-0.5, 0.0, 0.62), rotation=(0.0, 0.0, -0.35))
monkey = bpy.context.object
monkey.name = "Suzanne"
monkey.modifiers.new("Smooth", "SUBSURF").levels = 2
bpy.ops.object.shade_smooth()
monkey.data.materials.append(material("Orange", (0.95, 0.38, 0.05), 0.4))

bpy.ops.mesh.primitive_uv_sphere_add(radius=0.45, location=(0.95, -0.35, 0.45))
bpy.context.object.name = "Ball"
bpy.ops.object.shade_smooth()
bpy.context.object.data.materials.append(material("Teal", (0.05, 0.55, 0.55), 0.2))

print("hello scene:", ", ".join(o.name for o in bpy.context.scene.objects))

"""Ground truth for the snowman task: three stacked white spheres and an orange cone nose, lit from the side."""
import math

import bpy

radii = (0.7, 0.5, 0.33)  # param 0.1..1.2
nose_length = 0.35  # param 0.05..0.8
sun_angle = 40.0  # param 0.0..90.0

snow = bpy.data.materials.new("Snow")
snow.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.95, 0.95, 0.97, 1.0)
carrot = bpy.data.materials.new("Carrot")
carrot.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.9, 0.35, 0.05, 1.0)

z = 0.0
for name, r in zip(("Base", "Body", "Head"), radii):
    z += r
    bpy.ops.mesh.primitive_uv_sphere_add(radius=r, location=(0.0, 0.0, z), segments=32, ring_count=16)
    ball = bpy.context.active_object
    ball.name = name
    ball.data.materials.append(snow)
    bpy.ops.object.shade_smooth()
    z += r * 0.85  # the balls sink into each other a little

head = bpy.data.objects["Head"]
bpy.ops.mesh.primitive_cone_add(radius1=0.07, depth=nose_length,
                                location=(0.0, -radii[2] - nose_length / 2 + 0.02, head.location.z),
                                rotation=(math.radians(90), 0.0, 0.0))
nose = bpy.context.active_object
nose.name = "Nose"
nose.data.materials.append(carrot)

sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", type="SUN"))
sun.rotation_euler = (math.radians(sun_angle), 0.0, math.radians(30.0))
bpy.context.scene.collection.objects.link(sun)

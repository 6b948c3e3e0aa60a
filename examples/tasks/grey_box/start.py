"""Start program for the grey_box task: the right grey box, too small, too tall and in the wrong place."""
import math

import bpy

size = (0.8, 0.8, 1.4)  # param 0.2..2.5
offset_x = -0.6  # param -1.5..1.5

grey = bpy.data.materials.new("Concrete")
grey.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.42, 0.42, 0.42, 1.0)
floor = bpy.data.materials.new("Floor")
floor.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.35, 0.35, 0.35, 1.0)

bpy.ops.mesh.primitive_cube_add(size=1.0, location=(offset_x, 0.0, size[2] / 2))
box = bpy.context.active_object
box.name = "Box"
box.scale = size
box.data.materials.append(grey)

bpy.ops.mesh.primitive_plane_add(size=10.0)
bpy.context.active_object.name = "Floor"
bpy.context.active_object.data.materials.append(floor)
sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", type="SUN"))
sun.data.energy = 3.0
sun.rotation_euler = (math.radians(50.0), 0.0, math.radians(-30.0))
bpy.context.scene.collection.objects.link(sun)

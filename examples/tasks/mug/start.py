"""Start program for the mug task: a mug of the wrong size, glaze and place."""
import math

import bpy

body = (0.35, 0.7)  # param 0.2..1.2
handle_size = 0.2  # param 0.1..0.6
offset_x = 0.0  # param -1.2..1.2
glaze = (0.6, 0.6, 0.6)  # param 0.0..1.0

mat = bpy.data.materials.new("Glaze")
mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (*glaze, 1.0)

radius, height = body
bpy.ops.mesh.primitive_cylinder_add(radius=radius, depth=height, vertices=48, location=(offset_x, 0.0, height / 2))
mug = bpy.context.active_object
mug.name = "Mug"
mug.data.materials.append(mat)

bpy.ops.mesh.primitive_torus_add(major_radius=handle_size, minor_radius=0.06, major_segments=32, minor_segments=12,
                                 location=(offset_x + radius + handle_size * 0.6, 0.0, height * 0.55),
                                 rotation=(math.radians(90), 0.0, 0.0))
handle = bpy.context.active_object
handle.name = "Handle"
handle.data.materials.append(mat)

bpy.ops.mesh.primitive_plane_add(size=8.0)
bpy.context.active_object.name = "Table"

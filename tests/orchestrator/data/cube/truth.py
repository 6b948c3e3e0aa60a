"""Tiny fixture task: one cube whose size and position are params."""
import bpy

size = 1.3  # param 0.3..2.0
offset_x = 0.4  # param -1.0..1.0

bpy.ops.mesh.primitive_cube_add(size=size, location=(offset_x, 0.0, size / 2))
bpy.context.active_object.name = "Cube"

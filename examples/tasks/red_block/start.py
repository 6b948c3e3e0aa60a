"""Start program for the red_block task: right kind of object, wrong size, place and colour."""
import bpy

size = (1.0, 1.0, 1.0)  # param 0.2..3.0
offset_x = 0.0  # param -1.5..1.5
color = (0.5, 0.5, 0.5)  # param 0.0..1.0

bpy.ops.mesh.primitive_cube_add(size=1.0, location=(offset_x, 0.0, size[2] / 2))
block = bpy.context.active_object
block.name = "Block"
block.scale = size
mat = bpy.data.materials.new("BlockPaint")
mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (*color, 1.0)
block.data.materials.append(mat)

bpy.ops.mesh.primitive_plane_add(size=8.0)
bpy.context.active_object.name = "Ground"

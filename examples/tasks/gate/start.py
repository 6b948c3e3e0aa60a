"""Start program for the gate task: far too wide (wider than the front view), too low, off to the left."""
import bpy

width = 6.5  # param 0.5..7.0
height = 1.2  # param 0.5..3.0
offset_x = -0.5  # param -1.5..1.5

wood = bpy.data.materials.new("Wood")
wood.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.45, 0.22, 0.08, 1.0)

for side in (-1, 1):
    bpy.ops.mesh.primitive_cube_add(size=1.0, location=(offset_x + side * width / 2, 0.0, height / 2))
    post = bpy.context.active_object
    post.name = "Post.L" if side < 0 else "Post.R"
    post.scale = (0.2, 0.2, height)
    post.data.materials.append(wood)
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(offset_x, 0.0, height + 0.1))
beam = bpy.context.active_object
beam.name = "Beam"
beam.scale = (width + 0.4, 0.24, 0.2)
beam.data.materials.append(wood)

bpy.ops.mesh.primitive_plane_add(size=14.0)
bpy.context.active_object.name = "Ground"

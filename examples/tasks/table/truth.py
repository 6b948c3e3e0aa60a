"""Ground truth for the table task: a wooden table, four legs under a rectangular top."""
import bpy

top_size = (2.0, 1.1)  # param 0.5..3.0
height = 0.9  # param 0.3..1.6
leg_thickness = 0.12  # param 0.03..0.4
wood = (0.45, 0.26, 0.12)  # param 0.0..1.0

mat = bpy.data.materials.new("Wood")
mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (*wood, 1.0)

top_thickness = 0.08
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0.0, 0.0, height - top_thickness / 2))
top = bpy.context.active_object
top.name = "TableTop"
top.scale = (top_size[0], top_size[1], top_thickness)
top.data.materials.append(mat)

leg_height = height - top_thickness
inset_x = top_size[0] / 2 - leg_thickness
inset_y = top_size[1] / 2 - leg_thickness
for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
    bpy.ops.mesh.primitive_cube_add(size=1.0, location=(sx * inset_x, sy * inset_y, leg_height / 2))
    leg = bpy.context.active_object
    leg.name = f"Leg{i}"
    leg.scale = (leg_thickness, leg_thickness, leg_height)
    leg.data.materials.append(mat)

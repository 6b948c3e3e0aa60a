"""Start program for the lamp task: a lamp too short, with a small white shade, in the wrong place."""
import math

import bpy

pole_height = 1.1  # param 0.6..2.4
shade = (0.3, 0.3)  # param 0.15..0.9
shade_colour = (0.85, 0.85, 0.8)  # param 0.0..1.0
offset_x = -0.2  # param -1.2..1.2

metal = bpy.data.materials.new("Metal")
metal.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.05, 0.05, 0.06, 1.0)
cloth = bpy.data.materials.new("Shade")
cloth.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (*shade_colour, 1.0)

bpy.ops.mesh.primitive_cylinder_add(radius=0.3, depth=0.06, vertices=32, location=(offset_x, 0.0, 0.03))
bpy.context.active_object.data.materials.append(metal)
bpy.context.active_object.name = "Base"
bpy.ops.mesh.primitive_cylinder_add(radius=0.03, depth=pole_height, vertices=16, location=(offset_x, 0.0, pole_height / 2))
bpy.context.active_object.data.materials.append(metal)
bpy.context.active_object.name = "Pole"
radius, depth = shade
bpy.ops.mesh.primitive_cone_add(radius1=radius, radius2=radius * 0.45, depth=depth, vertices=48,
                                location=(offset_x, 0.0, pole_height + depth * 0.3))
lampshade = bpy.context.active_object
lampshade.name = "Shade"
lampshade.data.materials.append(cloth)
bpy.ops.object.shade_smooth()

bpy.ops.mesh.primitive_plane_add(size=8.0)
bpy.context.active_object.name = "Floor"
sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", type="SUN"))
sun.data.energy = 3.0
sun.rotation_euler = (math.radians(35.0), 0.0, math.radians(25.0))
bpy.context.scene.collection.objects.link(sun)

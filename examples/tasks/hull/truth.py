"""Ground truth for the hull task: a ship's hull, bow towards +Y, with a superstructure and a funnel."""
import bpy

length = 24.0  # param 10.0..36.0
beam = 5.0  # param 2.0..10.0
depth = 3.5  # param 1.0..8.0
sup_length = 7.0  # param 2.0..12.0
sup_height = 3.0  # param 1.0..6.0
funnel_height = 3.0  # param 0.5..6.0


def half_breadth(t):
    if t < 0.15:
        return beam / 2 * (0.75 + 0.25 * t / 0.15)
    if t <= 0.7:
        return beam / 2
    return max(0.02, beam / 2 * ((1.0 - t) / 0.3) ** 0.5)


def keel(t):
    if t < 0.1:
        return 0.15 * depth * (1.0 - t / 0.1)
    return 0.4 * depth * ((t - 0.75) / 0.25) if t > 0.75 else 0.0


def deck(t):
    return depth * (1.0 + 0.15 * max(0.0, (t - 0.6) / 0.4) ** 2)


stations = [0.0, 0.05, 0.1, 0.15, 0.3, 0.5, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0]
verts, faces = [], []
for i, t in enumerate(stations):
    y, b = -length / 2 + t * length, half_breadth(t)
    verts += [(-b, y, keel(t)), (b, y, keel(t)), (b, y, deck(t)), (-b, y, deck(t))]
    if i:
        a, c = 4 * (i - 1), 4 * i
        faces += [(a + k, a + (k + 1) % 4, c + (k + 1) % 4, c + k) for k in range(4)]
last = 4 * (len(stations) - 1)
faces += [(3, 2, 1, 0), (last, last + 1, last + 2, last + 3)]
mesh = bpy.data.meshes.new("Hull")
mesh.from_pydata(verts, [], faces)
hull_obj = bpy.data.objects.new("Hull", mesh)
bpy.context.scene.collection.objects.link(hull_obj)
grey = bpy.data.materials.new("HullGrey")
grey.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.35, 0.38, 0.42, 1.0)
mesh.materials.append(grey)

sup_y = -0.1 * length
bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0.0, sup_y, depth + sup_height / 2))
sup = bpy.context.active_object
sup.name = "Superstructure"
sup.scale = (0.6 * beam, sup_length, sup_height)
white = bpy.data.materials.new("Paint")
white.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.85, 0.85, 0.8, 1.0)
sup.data.materials.append(white)

bpy.ops.mesh.primitive_cylinder_add(radius=0.6, depth=funnel_height,
                                    location=(0.0, sup_y - 0.2 * sup_length, depth + sup_height + funnel_height / 2))
funnel = bpy.context.active_object
funnel.name = "Funnel"
black = bpy.data.materials.new("Soot")
black.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.08, 0.08, 0.08, 1.0)
funnel.data.materials.append(black)

"""What is in the scene, as data: `get_scene_info` (every object, no cap) and `get_object_info`.

Geometry facts come from the evaluated depsgraph, so modifiers count: the bounding box and mesh
stats describe what a render shows, not the base mesh.
"""

from __future__ import annotations

from typing import Any

import bpy
import numpy as np
from fastmcp import FastMCP
from mathutils import Vector
from pydantic import BaseModel, Field

from harness.scene_types import MeshStats, ObjectSummary, SceneInfo
from servers.blender_primary.lookup import find_object

__all__ = ["ModifierInfo", "ObjectDetails", "scene_info", "object_details", "world_bounds", "register"]

GEOMETRY_TYPES = frozenset({"MESH", "CURVE", "SURFACE", "META", "FONT", "CURVES", "POINTCLOUD", "VOLUME", "GREASEPENCIL"})


class ModifierInfo(BaseModel):
    name: str
    type: str
    show_viewport: bool
    show_render: bool
    node_group: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict, description="geometry-nodes inputs: name → {identifier, socket_type, value}")


class ObjectDetails(BaseModel):
    summary: ObjectSummary
    data_name: str | None
    modifiers: list[ModifierInfo]
    material_slots: list[str | None]
    constraints: list[str]
    children: list[str]
    custom_properties: dict[str, Any]


def _vec(v) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def world_bounds(obj: bpy.types.Object, depsgraph: bpy.types.Depsgraph) -> tuple[Vector, Vector]:
    """World-space AABB of the evaluated object; a point at its origin for types without geometry."""
    evaluated = obj.evaluated_get(depsgraph)
    if obj.type not in GEOMETRY_TYPES:
        origin = evaluated.matrix_world.translation
        return origin.copy(), origin.copy()
    corners = np.array([tuple(evaluated.matrix_world @ Vector(c)) for c in evaluated.bound_box])
    return Vector(corners.min(axis=0)), Vector(corners.max(axis=0))


def _mesh_stats(obj: bpy.types.Object, depsgraph: bpy.types.Depsgraph) -> MeshStats | None:
    if obj.type != "MESH":
        return None
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        edge_of_loop = np.empty(len(mesh.loops), dtype=np.int32)
        mesh.loops.foreach_get("edge_index", edge_of_loop)
        faces_per_edge = np.bincount(edge_of_loop, minlength=len(mesh.edges))
        return MeshStats(
            verts=len(mesh.vertices),
            edges=len(mesh.edges),
            faces=len(mesh.polygons),
            non_manifold_edges=int(np.count_nonzero(faces_per_edge != 2)),
        )
    finally:
        evaluated.to_mesh_clear()


def summarize(obj: bpy.types.Object, depsgraph: bpy.types.Depsgraph) -> ObjectSummary:
    low, high = world_bounds(obj, depsgraph)
    collection = obj.users_collection[0].name if obj.users_collection else None
    return ObjectSummary(
        name=obj.name,
        type=obj.type,
        location=_vec(obj.location),
        rotation_euler=_vec(obj.rotation_euler),
        scale=_vec(obj.scale),
        dimensions=_vec(obj.dimensions),
        bbox_min=_vec(low),
        bbox_max=_vec(high),
        mesh=_mesh_stats(obj, depsgraph),
        materials=[slot.material.name for slot in obj.material_slots if slot.material],
        modifiers=[m.name for m in obj.modifiers],
        parent=obj.parent.name if obj.parent else None,
        collection=collection,
        visible=obj.visible_get(),
    )


def scene_info() -> SceneInfo:
    scene = bpy.context.scene
    depsgraph = bpy.context.evaluated_depsgraph_get()
    objects = [summarize(obj, depsgraph) for obj in scene.objects]
    meshes = [o.mesh for o in objects if o.mesh]
    return SceneInfo(
        scene=scene.name,
        unit_system=scene.unit_settings.system,
        unit_scale=scene.unit_settings.scale_length,
        camera=scene.camera.name if scene.camera else None,
        render_engine=scene.render.engine,
        frame=scene.frame_current,
        objects=objects,
        totals={
            "objects": len(objects),
            "meshes": len(meshes),
            "verts": sum(m.verts for m in meshes),
            "faces": sum(m.faces for m in meshes),
            "materials": len(bpy.data.materials),
        },
    )


def _plain(value: Any) -> Any:
    """An ID property or bpy value as JSON-friendly data."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "name") and hasattr(value, "rna_type"):
        return value.name
    try:
        return [_plain(v) for v in value]
    except TypeError:
        return repr(value)


def _modifier_info(mod: bpy.types.Modifier) -> ModifierInfo:
    info = ModifierInfo(name=mod.name, type=mod.type, show_viewport=mod.show_viewport, show_render=mod.show_render)
    if mod.type == "NODES" and mod.node_group:
        info.node_group = mod.node_group.name
        for item in mod.node_group.interface.items_tree:
            if item.item_type == "SOCKET" and item.in_out == "INPUT":
                value = mod.get(item.identifier)
                info.inputs[item.name] = {"identifier": item.identifier, "socket_type": item.socket_type, "value": _plain(value)}
    return info


def object_details(name: str) -> ObjectDetails:
    obj = find_object(name)
    depsgraph = bpy.context.evaluated_depsgraph_get()
    return ObjectDetails(
        summary=summarize(obj, depsgraph),
        data_name=obj.data.name if obj.data else None,
        modifiers=[_modifier_info(m) for m in obj.modifiers],
        material_slots=[slot.material.name if slot.material else None for slot in obj.material_slots],
        constraints=[c.name for c in obj.constraints],
        children=[c.name for c in obj.children],
        custom_properties={k: _plain(obj[k]) for k in obj.keys() if not k.startswith("_")},
    )


def register(mcp: FastMCP) -> None:
    @mcp.tool(output_schema=None, annotations={"readOnlyHint": True})
    async def get_scene_info() -> SceneInfo:
        """Every object in the scene (type, transforms, bounds, mesh stats, materials, modifiers) plus units,
        camera and totals."""
        return scene_info()

    @mcp.tool(output_schema=None, annotations={"readOnlyHint": True})
    async def get_object_info(name: str) -> ObjectDetails:
        """One object's details: modifiers with their inputs, material slots, constraints, children, custom
        properties."""
        return object_details(name)

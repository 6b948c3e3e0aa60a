"""Corrective "safety" tools (BL-09): put objects on the floor, normalise their size, bake transforms.

Generated scenes often float, sink below z=0, come out a hundred times too big, or carry
rotations and scales that later modifiers and exports trip over. These tools fix that in one
call and say exactly what moved, as world-space bounds before and after. Bounds are measured
on the evaluated geometry (modifiers and geometry nodes included), vertex by vertex, so a
rotated object is measured tightly rather than by its rotated local box.
"""

from __future__ import annotations

from typing import Annotated

import bpy
import numpy as np
from fastmcp import FastMCP
from mathutils import Matrix, Vector
from pydantic import BaseModel, Field

from servers.blender_primary.errors import BadArgumentError, UnsupportedObjectError
from servers.blender_primary.lookup import find_object
from servers.blender_primary.scene_facts import GEOMETRY_TYPES

__all__ = ["Bounds", "ObjectChange", "SafetyResult", "register"]

Vec3 = tuple[float, float, float]


class Bounds(BaseModel):
    """A world-space axis-aligned box."""

    min: Vec3
    max: Vec3

    @property
    def size(self) -> Vec3:
        return (self.max[0] - self.min[0], self.max[1] - self.min[1], self.max[2] - self.min[2])


class ObjectChange(BaseModel):
    name: str
    bounds_before: Bounds
    bounds_after: Bounds
    location_before: Vec3
    location_after: Vec3
    rotation_before: Vec3
    rotation_after: Vec3
    scale_before: Vec3
    scale_after: Vec3


class SafetyResult(BaseModel):
    changed: list[ObjectChange] = Field(description="one entry per object the tool touched, in the order handled")
    note: str = ""


def _tight_world_bounds(obj: bpy.types.Object) -> Bounds:
    """World bounds of the evaluated object from its vertices when it has any, else its box corners.

    Tighter than scene_facts.world_bounds (box corners), which over-reaches for rotated meshes:
    flooring by the loose box would leave a rotated object hovering.
    """
    depsgraph = bpy.context.evaluated_depsgraph_get()
    evaluated = obj.evaluated_get(depsgraph)
    matrix = np.array(evaluated.matrix_world, dtype=np.float64)
    points = _local_points(evaluated)
    world = points @ matrix[:3, :3].T + matrix[:3, 3]
    lo, hi = world.min(axis=0), world.max(axis=0)
    return Bounds(min=tuple(float(v) for v in lo), max=tuple(float(v) for v in hi))


def _local_points(evaluated: bpy.types.Object) -> np.ndarray:
    if evaluated.type in GEOMETRY_TYPES:
        try:
            mesh = evaluated.to_mesh()
        except RuntimeError:
            mesh = None
        try:
            if mesh is not None and len(mesh.vertices):
                coords = np.empty(len(mesh.vertices) * 3, dtype=np.float64)
                mesh.vertices.foreach_get("co", coords)
                return coords.reshape(-1, 3)
        finally:
            if mesh is not None:
                evaluated.to_mesh_clear()
    return np.array([tuple(corner) for corner in evaluated.bound_box], dtype=np.float64)


def _targets(names: list[str] | None) -> list[bpy.types.Object]:
    """Named objects (each must exist), or every mesh of the scene when no names are given."""
    if names is None:
        return [obj for obj in bpy.context.scene.objects if obj.type == "MESH"]
    return [find_object(name) for name in dict.fromkeys(names)]


def _parents_first(objects: list[bpy.types.Object]) -> list[bpy.types.Object]:
    """Parents before children, so moving a parent is settled before its child is measured."""
    return sorted(objects, key=lambda obj: len(_ancestors(obj)))


def _snapshot(obj: bpy.types.Object) -> tuple[Bounds, Vec3, Vec3, Vec3]:
    return _tight_world_bounds(obj), tuple(obj.location), tuple(obj.rotation_euler), tuple(obj.scale)


def _change(obj: bpy.types.Object, before: tuple[Bounds, Vec3, Vec3, Vec3]) -> ObjectChange:
    after = _snapshot(obj)
    return ObjectChange(
        name=obj.name,
        bounds_before=before[0],
        bounds_after=after[0],
        location_before=before[1],
        location_after=after[1],
        rotation_before=before[2],
        rotation_after=after[2],
        scale_before=before[3],
        scale_after=after[3],
    )


def _shift_z(obj: bpy.types.Object, dz: float) -> None:
    obj.matrix_world = Matrix.Translation(Vector((0.0, 0.0, dz))) @ obj.matrix_world
    bpy.context.view_layer.update()


def floor_objects(names: list[str] | None, together: bool) -> SafetyResult:
    objects = _parents_first(_targets(names))
    if not objects:
        return SafetyResult(changed=[], note="nothing to change: no objects given and no meshes in the scene")
    before = {obj.name: _snapshot(obj) for obj in objects}
    if together:
        lowest = min(before[obj.name][0].min[2] for obj in objects)
        chosen = set(objects)
        for obj in objects:
            if not any(parent in chosen for parent in _ancestors(obj)):
                _shift_z(obj, -lowest)
    else:
        for obj in objects:
            _shift_z(obj, -_tight_world_bounds(obj).min[2])
    return SafetyResult(changed=[_change(obj, before[obj.name]) for obj in objects])


def _ancestors(obj: bpy.types.Object) -> list[bpy.types.Object]:
    chain = []
    while obj.parent is not None:
        obj = obj.parent
        chain.append(obj)
    return chain


def normalize_object(name: str, size: float) -> SafetyResult:
    obj = find_object(name)
    before = _snapshot(obj)
    largest = max(before[0].size)
    if largest <= 1e-12:
        raise BadArgumentError(f"'{obj.name}' has zero size (largest world dimension {largest:g}); nothing to scale")
    factor = size / largest
    obj.scale = tuple(component * factor for component in obj.scale)
    bpy.context.view_layer.update()
    return SafetyResult(changed=[_change(obj, before)], note=f"scaled uniformly by {factor:.6g}")


def apply_object_transforms(names: list[str] | None, location: bool, rotation: bool, scale: bool) -> SafetyResult:
    objects = _targets(names)
    unsupported = [f"{obj.name} ({obj.type})" for obj in objects if obj.type not in GEOMETRY_TYPES]
    if unsupported:
        raise UnsupportedObjectError("transforms can only be baked into geometry; not into: " + ", ".join(unsupported))
    if not objects:
        return SafetyResult(changed=[], note="nothing to change: no objects given and no meshes in the scene")
    if not (location or rotation or scale):
        raise BadArgumentError("choose at least one of location, rotation, scale to apply")
    before = {obj.name: _snapshot(obj) for obj in objects}
    with bpy.context.temp_override(
        selected_editable_objects=objects, selected_objects=objects, active_object=objects[0]
    ):
        try:
            bpy.ops.object.transform_apply(location=location, rotation=rotation, scale=scale, isolate_users=True)
        except RuntimeError as e:
            raise UnsupportedObjectError(f"Blender refused to apply transforms: {e}") from e
    bpy.context.view_layer.update()
    return SafetyResult(changed=[_change(obj, before[obj.name]) for obj in objects])


def register(mcp: FastMCP) -> None:
    """Add the safety tools to the worker's server."""

    @mcp.tool(timeout=60, output_schema=None)
    async def transform_to_floor(
        names: Annotated[
            list[str] | None, Field(description="objects to move; every mesh in the scene when omitted")
        ] = None,
        together: Annotated[
            bool,
            Field(
                description="move all of them by one shared offset so only the lowest touches the floor (keeps stacking)"
            ),
        ] = False,
    ) -> SafetyResult:
        """Move objects straight up or down so their lowest point sits on z=0 (together=true keeps stacked objects
        in place)."""
        return floor_objects(names, together)

    @mcp.tool(timeout=60, output_schema=None)
    async def normalize_scale(
        name: Annotated[str, Field(description="object to resize")],
        size: Annotated[
            float, Field(gt=0, le=1e6, description="the largest world-space dimension afterwards, in scene units")
        ] = 1.0,
    ) -> SafetyResult:
        """Scale one object uniformly so its largest world-space dimension equals `size`."""
        return normalize_object(name, size)

    @mcp.tool(timeout=60, output_schema=None)
    async def apply_transforms(
        names: Annotated[
            list[str] | None, Field(description="objects to bake; every mesh in the scene when omitted")
        ] = None,
        location: bool = True,
        rotation: bool = True,
        scale: bool = True,
    ) -> SafetyResult:
        """Bake objects' location/rotation/scale into their geometry (Blender's Apply Transforms); they look the
        same afterwards."""
        return apply_object_transforms(names, location, rotation, scale)

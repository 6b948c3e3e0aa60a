"""Stages 4 and 5 of asset finalization: bake materials (PBR) and normals from the high mesh to the low one.

Both are real Cycles bakes, "selected to active": rays leave the low mesh's surface (pushed out
by the cage extrusion), hit the high mesh, and what they find lands in the low mesh's UV layout.
Cycles has no bake pass for a Principled input such as metallic, so each of the high mesh's
materials is routed through an Emission shader fed by that input (its texture network or its
constant) and the EMIT pass is baked: one mechanism for base colour, roughness and metallic,
procedural or multi-material alike. A material without a Principled BSDF gives its viewport
colour, roughness and metallic. The normal map is Cycles' tangent-space NORMAL pass.

The low mesh ends with one material whose Principled BSDF reads the baked images, which every
exporter understands.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import bpy
from fastmcp import Context, FastMCP
from pydantic import Field

from harness.asset_types import BakedMaps, BakeMap
from servers.blender_primary.asset_objects import job_folder, mesh_object, select_only
from servers.blender_primary.errors import BadArgumentError, BakeError
from servers.blender_primary.paths import check_id
from servers.blender_primary.state import worker_state

__all__ = ["bake", "register"]

# map → (colour space of its image, Principled input it feeds, fallback Material attribute)
MAPS: dict[str, tuple[str, str, str | None]] = {
    "base_color": ("sRGB", "Base Color", "diffuse_color"),
    "roughness": ("Non-Color", "Roughness", "roughness"),
    "metallic": ("Non-Color", "Metallic", "metallic"),
    "normal": ("Non-Color", "Normal", None),
}
EMIT_NODE = "colossus_bake_emit"


def _node_of(tree: bpy.types.NodeTree, kind: str) -> bpy.types.Node | None:
    return next((n for n in tree.nodes if n.type == kind), None)


def _emit_input(material: bpy.types.Material, map_name: str) -> None:
    """Make the material's surface an Emission of the Principled input behind `map_name`."""
    _, input_name, fallback = MAPS[map_name]
    tree = material.node_tree
    output = _node_of(tree, "OUTPUT_MATERIAL") or tree.nodes.new("ShaderNodeOutputMaterial")
    emit = tree.nodes.get(EMIT_NODE) or tree.nodes.new("ShaderNodeEmission")
    emit.name = EMIT_NODE
    for link in list(emit.inputs["Color"].links):
        tree.links.remove(link)
    principled = _node_of(tree, "BSDF_PRINCIPLED")
    value = getattr(material, fallback)
    if principled is not None:
        socket = principled.inputs[input_name]
        if socket.is_linked:
            tree.links.new(socket.links[0].from_socket, emit.inputs["Color"])
        value = socket.default_value
    rgba = tuple(value)[:3] + (1.0,) if hasattr(value, "__len__") else (value, value, value, 1.0)
    emit.inputs["Color"].default_value = rgba
    emit.inputs["Strength"].default_value = 1.0
    tree.links.new(emit.outputs["Emission"], output.inputs["Surface"])


def _high_materials(high: bpy.types.Object) -> list[bpy.types.Material]:
    if not any(slot.material for slot in high.material_slots):
        high.data.materials.clear()
        high.data.materials.append(bpy.data.materials.new(f"{high.name}_default"))
    return list({slot.material for slot in high.material_slots if slot.material})


def _target_material(low: bpy.types.Object, material_name: str) -> bpy.types.Material:
    """The low mesh's single baked material (created on first use), its only slot."""
    material = bpy.data.materials.get(material_name) or bpy.data.materials.new(material_name)
    if list(low.data.materials) != [material]:
        low.data.materials.clear()
        low.data.materials.append(material)
    return material


def _image_node(material: bpy.types.Material, map_name: str, size: int) -> bpy.types.Node:
    """The image node holding `map_name`, wired into the Principled BSDF (created on first use)."""
    tree = material.node_tree
    node = tree.nodes.get(f"bake_{map_name}")
    image_name = f"{material.name}_{map_name}"
    if node is None:
        node = tree.nodes.new("ShaderNodeTexImage")
        node.name = f"bake_{map_name}"
    if node.image is None or tuple(node.image.size) != (size, size):
        node.image = bpy.data.images.new(image_name, size, size, alpha=False)
    node.image.colorspace_settings.name = MAPS[map_name][0]
    principled = _node_of(tree, "BSDF_PRINCIPLED")
    if map_name == "normal":
        normal_map = tree.nodes.get("bake_normal_map") or tree.nodes.new("ShaderNodeNormalMap")
        normal_map.name = "bake_normal_map"
        tree.links.new(node.outputs["Color"], normal_map.inputs["Color"])
        tree.links.new(normal_map.outputs["Normal"], principled.inputs["Normal"])
    else:
        tree.links.new(node.outputs["Color"], principled.inputs[MAPS[map_name][1]])
    return node


def _use_cycles(samples: int) -> None:
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.samples = samples
    scene.cycles.device = "CPU"
    cycles = bpy.context.preferences.addons["cycles"].preferences
    for kind in ("OPTIX", "CUDA", "HIP", "METAL", "ONEAPI"):
        try:
            cycles.compute_device_type = kind
        except TypeError:  # not built into this Blender
            continue
        if any(device.type == kind for device in cycles.get_devices_for_type(kind)):
            for device in cycles.devices:
                device.use = device.type == kind
            scene.cycles.device = "GPU"
            return
    cycles.compute_device_type = "NONE"


def bake(high_name: str, low_name: str, maps: list[BakeMap], size: int, cage_extrusion: float,
         margin_px: int, samples: int, material_name: str, folder: Path) -> BakedMaps:
    """Bake `maps` from `high_name` onto `low_name`'s active UV layer and save them as PNGs in `folder`."""
    high, low = mesh_object(high_name), mesh_object(low_name)
    if high == low:
        raise BadArgumentError("the high and the low mesh must be different objects")
    if not low.data.uv_layers:
        raise BadArgumentError(f"{low_name!r} has no UV layer to bake into; unwrap it first")
    _use_cycles(samples)
    materials = _high_materials(high)
    target = _target_material(low, material_name)
    select_only([high, low], low)
    textures: dict[str, str] = {}
    elapsed: dict[str, float] = {}
    for map_name in maps:
        node = _image_node(target, map_name, size)
        target.node_tree.nodes.active = node
        if map_name != "normal":
            for material in materials:
                _emit_input(material, map_name)
        started = time.perf_counter()
        try:
            bpy.ops.object.bake(type="NORMAL" if map_name == "normal" else "EMIT", normal_space="TANGENT",
                                use_selected_to_active=True, cage_extrusion=cage_extrusion, margin=margin_px,
                                use_clear=True)
        except RuntimeError as exc:
            raise BakeError(f"baking {map_name} from {high_name!r} to {low_name!r} failed: {exc}") from exc
        elapsed[map_name] = time.perf_counter() - started
        path = folder / f"{node.image.name}.png"
        node.image.filepath_raw = str(path)
        node.image.file_format = "PNG"
        node.image.save()
        textures[map_name] = str(path)
    colour = target.node_tree.nodes.get("bake_base_color")
    if colour is not None:  # the active image node is the one viewports and Workbench (LOD renders) show
        target.node_tree.nodes.active = colour
    return BakedMaps(object=low.name, textures=textures, size=size, elapsed_s=elapsed)


def register(mcp: FastMCP) -> None:
    """Add asset_bake to the worker's server."""

    @mcp.tool(timeout=900)
    async def asset_bake(
        high: Annotated[str, Field(description="mesh carrying the detail and the source materials")],
        low: Annotated[str, Field(description="UV-unwrapped mesh that receives the maps")],
        maps: Annotated[list[BakeMap], Field(min_length=1, description="base_color, roughness, metallic, normal")],
        job: Annotated[str, Field(description="job id: PNGs go to <output>/<job>/textures/")],
        ctx: Context,
        size: Annotated[int, Field(ge=16, le=8192, description="texture width = height, a power of two")] = 1024,
        cage_extrusion: Annotated[float, Field(ge=0, le=100, description="how far rays start outside the low mesh, metres")] = 0.02,
        margin_px: Annotated[int, Field(ge=0, le=64)] = 4,
        samples: Annotated[int, Field(ge=1, le=1024)] = 1,
        material: Annotated[str, Field(description="name of the low mesh's baked material")] = "baked",
    ) -> BakedMaps:
        """Bake PBR maps and/or a tangent-space normal map from the high mesh onto the low mesh with Cycles
        (CPU, or GPU when present); the low mesh gets one material that uses them."""
        if size & (size - 1):
            raise BadArgumentError(f"size {size} is not a power of two")
        folder = job_folder(worker_state(ctx).output_dir, job) / "textures"
        folder.mkdir(exist_ok=True)
        return bake(high, low, list(dict.fromkeys(maps)), size, cage_extrusion, margin_px, samples,
                    check_id(material, "material name"), folder)

"""A render session: applies a preset to the scene and takes everything back on exit.

Every setting the preset touches is recorded first and restored afterwards; the camera (and a
sun for Cycles when the scene has no light) are created for the session and removed with their
data, so a render never leaves anything in the scene or in bpy.data.
"""

from __future__ import annotations

import math
from types import TracebackType
from typing import Any

import bpy
from mathutils import Euler

from harness.gpu_presets import CyclesDevice
from harness.scene_types import RenderSettings
from servers.blender_primary.camera_pack import SENSOR_MM
from servers.blender_primary.cycles_devices import cycles_device
from servers.blender_primary.errors import RenderError

__all__ = ["PRESET_DEFAULT_SAMPLES", "RenderSession"]

PRESET_DEFAULT_SAMPLES = 32
CYCLES_SEED = 0
PRINCIPLED_DEFAULT_BASE = (0.8, 0.8, 0.8, 1.0)  # what a new material's Principled BSDF starts with


class RenderSession:
    def __init__(self, scene: bpy.types.Scene, settings: RenderSettings) -> None:
        self.scene = scene
        self.settings = settings
        self._saved: list[tuple[Any, str, Any]] = []
        self._created: list[bpy.types.Object] = []
        self.added: list[str] = []
        self.camera: bpy.types.Object
        self.device: CyclesDevice | None = None  # what Cycles renders with; None for Workbench

    def __enter__(self) -> RenderSession:
        scene, settings, render = self.scene, self.settings, self.scene.render
        try:
            self._set(scene, "camera", None)
            self._set(render, "resolution_x", settings.resolution)
            self._set(render, "resolution_y", settings.resolution)
            self._set(render, "resolution_percentage", 100)
            self._set(render, "pixel_aspect_x", 1.0)
            self._set(render, "pixel_aspect_y", 1.0)
            self._set(render, "use_file_extension", True)
            self._set(render, "film_transparent", False)
            self._set(render, "filepath", render.filepath)
            for prop in render.bl_rna.properties:  # date, render time, file… metadata would make files differ
                if prop.identifier.startswith("use_stamp"):
                    self._set(render, prop.identifier, False)
            self._set(render.image_settings, "file_format", "PNG")
            self._set(render.image_settings, "color_mode", "RGB")
            self._set(render.image_settings, "color_depth", "8")
            if settings.preset == "preview":
                self._apply_workbench()
            else:
                self._apply_cycles()
            self._isolate()
            self.camera = self._create_camera()
            scene.camera = self.camera
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for obj in reversed(self._created):
            data = obj.data
            bpy.data.objects.remove(obj, do_unlink=True)
            if isinstance(data, bpy.types.Camera):
                bpy.data.cameras.remove(data)
            elif isinstance(data, bpy.types.Light):
                bpy.data.lights.remove(data)
        self._created.clear()
        for owner, attr, value in reversed(self._saved):
            setattr(owner, attr, value)
        self._saved.clear()

    def _isolate(self) -> None:
        """Check the focus objects exist; with `isolate`, hide every other object but lights for the render."""
        focus = self.settings.focus_objects or []
        missing = [name for name in focus if name not in self.scene.objects]
        if missing:
            names = ", ".join(sorted(o.name for o in self.scene.objects)[:40]) or "none"
            raise RenderError(f"focus_objects: no object named {', '.join(map(repr, missing))} in the scene (objects: {names})")
        if self.settings.isolate:
            if not focus:
                raise RenderError("isolate needs focus_objects: the objects to render alone")
            for obj in self.scene.objects:
                if obj.name not in focus and obj.type != "LIGHT":
                    self._set(obj, "hide_render", True)

    def hide(self, names: list[str]) -> None:
        """Leave these objects out of the session's renders (restored on exit)."""
        for name in names:
            self._set(self.scene.objects[name], "hide_render", True)

    def _set(self, owner: Any, attr: str, value: Any) -> None:
        old = getattr(owner, attr)
        if hasattr(old, "__len__") and not isinstance(old, str):  # bpy arrays are live views: copy
            old = tuple(old)
        self._saved.append((owner, attr, old))
        setattr(owner, attr, value)

    def _apply_workbench(self) -> None:
        self._set(self.scene.render, "engine", "BLENDER_WORKBENCH")
        shading = self.scene.display.shading
        self._set(shading, "light", "STUDIO")
        self._set(shading, "color_type", "TEXTURE")
        for material in bpy.data.materials:
            base = _principled_base_color(material)
            if base is not None:
                self._set(material, "diffuse_color", base)

    def _apply_cycles(self) -> None:
        self._set(self.scene.render, "engine", "CYCLES")
        cycles = self.scene.cycles
        device = cycles_device(PRESET_DEFAULT_SAMPLES, self.settings.tier or "final")  # a GPU where the node has one
        if self.settings.samples:
            device = device.model_copy(update={"samples": self.settings.samples})
        self.device = device
        self._set(cycles, "device", device.device)
        self._set(cycles, "samples", device.samples)
        if device.tile_size is not None:  # the tier's tile on a GPU; the CPU keeps Cycles' own
            self._set(cycles, "use_auto_tile", True)
            self._set(cycles, "tile_size", device.tile_size)
        self._set(cycles, "seed", CYCLES_SEED)
        self._set(cycles, "use_animated_seed", False)
        self._set(cycles, "use_denoising", False)
        if not any(obj.type == "LIGHT" for obj in self.scene.objects):
            self._create_sun()

    def _create_camera(self) -> bpy.types.Object:
        data = bpy.data.cameras.new("colossus_pack_camera")
        data.lens = self.settings.lens
        data.sensor_width = SENSOR_MM  # auto framing computes the field of view from the same width
        data.sensor_fit = "AUTO"
        data.clip_start = 0.01
        return self._link(bpy.data.objects.new("colossus_pack_camera", data))

    def _create_sun(self) -> None:
        data = bpy.data.lights.new("colossus_pack_sun", type="SUN")
        data.energy = 3.0
        sun = self._link(bpy.data.objects.new("colossus_pack_sun", data))
        sun.rotation_euler = Euler((math.radians(40), 0.0, math.radians(30)))

    def _link(self, obj: bpy.types.Object) -> bpy.types.Object:
        self.scene.collection.objects.link(obj)
        self._created.append(obj)
        self.added.append(obj.name)
        return obj


def _principled_base_color(material: bpy.types.Material) -> tuple[float, float, float, float] | None:
    """The Principled Base Color a program chose, or None when it left it alone.

    Blender 5 gives every new material a node tree, so an untouched (default, unlinked) Base Color
    must not overwrite a viewport colour the program set with `diffuse_color`.
    """
    if material.node_tree is None:
        return None
    for node in material.node_tree.nodes:
        if node.type == "BSDF_PRINCIPLED":
            socket = node.inputs["Base Color"]
            color = tuple(socket.default_value)
            if socket.is_linked or all(abs(a - b) < 1e-6 for a, b in zip(color, PRINCIPLED_DEFAULT_BASE)):
                return None
            return color
    return None

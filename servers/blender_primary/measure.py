"""Measuring a scene through a camera from the scene itself: no render, no colour segmentation.

Blender knows every object, its evaluated geometry, its material and the camera, so per view the
subject's outline is computed exactly: each subject object's evaluated mesh is projected through
the pack's camera and its triangles are filled into a label mask (OpenCV's fillConvexPoly, one
call per triangle, sub-pixel coordinates, 4×4 samples per pixel: a pixel is subject when half
covered), far to near by the triangles' depth (painter's algorithm: exact for objects that do
not interpenetrate, a good approximation where they do; a closed mesh's back faces are culled).
The box comes from the projected vertices, so it is not clipped by the frame and moves
continuously with the geometry; centroid and area come from the mask. Cost: milliseconds per
view (a few thousand triangles), where a render takes tens to thousands.

Which objects are the subject:
- a task may name them (`[measure] objects`, RenderSettings.subject); an unknown name is an error
  that lists the scene's objects;
- otherwise the mesh-like objects the program created (not in the baseline the worker last
  loaded), minus a ground: a flat object (thinner than 1 % of its width) under all the others
  whose footprint covers theirs. Lights, cameras and empties are never subject.
Objects of the baseline, and a ground the program made, are background; they do not occlude the
subject in the mask (the subject standing on or above its ground is what the tasks build).
"""

from __future__ import annotations

import base64
import time

import bpy
import cv2
import numpy as np
from mathutils import Matrix, Vector

from harness.measure_types import Box, ObjectMeasure, SceneMeasure, ViewMeasure
from harness.profiles import image_profile
from harness.scene_types import RenderSettings
from servers.blender_primary.camera_pack import SENSOR_MM, camera_matrix
from servers.blender_primary.errors import RenderError

__all__ = ["subject_objects", "measure_view", "measure_pack", "measure_only", "Geometry", "note_baseline"]

_MESHLIKE = {"MESH", "CURVE", "SURFACE", "META", "FONT", "CURVES", "POINTCLOUD"}
_FLAT = 0.01
_SHIFT = 4  # fillPoly sub-pixel bits
_SUPER = 4  # samples per pixel side: a pixel is subject when half its samples are
_NEAR = 1e-3
_BEYOND = 1.0  # the profile's raster reaches this many frame widths beyond each side of the frame

_baseline_objects: frozenset[str] = frozenset()


def note_baseline() -> None:
    """Called after a baseline loads: its objects are background, never subject."""
    global _baseline_objects
    _baseline_objects = frozenset(o.name for o in bpy.data.objects)


def subject_objects(scene: bpy.types.Scene, named: list[str] | None) -> tuple[list[bpy.types.Object], list[str]]:
    """(subject objects, names of objects the program made that count as background)."""
    if named:
        missing = [n for n in named if n not in scene.objects]
        if missing:
            names = ", ".join(sorted(o.name for o in scene.objects)[:60]) or "none"
            raise RenderError(f"[measure] objects: no object named {', '.join(map(repr, missing))} in the scene "
                              f"(objects: {names})")
        return [scene.objects[n] for n in named], []
    made = [o for o in scene.objects if o.type in _MESHLIKE and o.name not in _baseline_objects and not o.hide_render]
    ground = [o for o in made if _is_ground(o, [p for p in made if p is not o])]
    return [o for o in made if o not in ground], [o.name for o in ground]


def _bounds(obj: bpy.types.Object) -> np.ndarray:
    """World-space box [low, high] of the object's bounding-box corners."""
    corners = np.array([obj.matrix_world @ Vector(c) for c in obj.bound_box])
    return np.stack([corners.min(axis=0), corners.max(axis=0)])


def _is_ground(obj: bpy.types.Object, others: list[bpy.types.Object]) -> bool:
    (lo, hi) = _bounds(obj)
    size = hi - lo
    if size[2] > _FLAT * max(size[0], size[1], 1e-9) or not others:
        return False
    rest = np.array([_bounds(o) for o in others])
    low, high = rest[:, 0].min(axis=0), rest[:, 1].max(axis=0)
    return bool(hi[2] <= low[2] + 1e-3 and lo[0] <= low[0] and lo[1] <= low[1] and hi[0] >= high[0] and hi[1] >= high[1])


class Geometry:
    """The subject's evaluated triangles in world space, gathered once per pack (every view reuses them)."""

    def __init__(self, objects: list[bpy.types.Object]) -> None:
        depsgraph = bpy.context.evaluated_depsgraph_get()
        self.names: list[str] = []
        self.triangles: list[np.ndarray] = []  # per object: T×3×3 world coordinates
        self.colours: list[tuple[float, float, float] | None] = []
        self.closed: list[bool] = []  # every edge shared by two triangles: its back faces are hidden behind its front
        for obj in objects:
            evaluated = obj.evaluated_get(depsgraph)
            mesh = evaluated.to_mesh()
            try:
                mesh.calc_loop_triangles()
                co = np.empty(len(mesh.vertices) * 3, np.float64)
                mesh.vertices.foreach_get("co", co)
                tri = np.empty(len(mesh.loop_triangles) * 3, np.int64)
                mesh.loop_triangles.foreach_get("vertices", tri)
            finally:
                evaluated.to_mesh_clear()
            world = np.asarray(obj.matrix_world, np.float64)
            points = co.reshape(-1, 3) @ world[:3, :3].T + world[:3, 3]
            self.names.append(obj.name)
            self.triangles.append(points[tri.reshape(-1, 3)] if len(tri) else np.zeros((0, 3, 3)))
            self.closed.append(_closed(tri.reshape(-1, 3)) and np.linalg.det(world[:3, :3]) > 0)
            self.colours.append(_base_colour(obj))


def _closed(triangles: np.ndarray) -> bool:
    if not len(triangles):
        return False
    edges = np.sort(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    return bool((counts == 2).all())


def _base_colour(obj: bpy.types.Object) -> tuple[float, float, float] | None:
    material = obj.active_material
    if material is None:
        return None
    if material.node_tree is not None:
        for node in material.node_tree.nodes:
            if node.type == "BSDF_PRINCIPLED":
                r, g, b, _ = node.inputs["Base Color"].default_value
                return float(r), float(g), float(b)
    r, g, b, _ = material.diffuse_color
    return float(r), float(g), float(b)


def measure_view(geometry: Geometry, view: str, camera: Matrix, lens: float, resolution: int,
                 with_mask: bool = True) -> ViewMeasure:
    """The subject through one camera (world matrix `camera`, looking down its −Z), with its label mask as PNG."""
    world_to_cam = np.asarray(camera.inverted(), np.float64)
    scale = lens / SENSOR_MM  # square frame: the sensor width spans it
    depth_of: list[float] = []
    layers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # per object: depths, labels, triangles (fill coordinates)
    objects: list[ObjectMeasure] = []
    every: list[np.ndarray] = []
    shapes: list[np.ndarray] = []  # per object: its faces seen from the camera (T×3×2 image fractions), frame or not
    for label, (name, tris, colour, closed) in enumerate(zip(geometry.names, geometry.triangles, geometry.colours,
                                                             geometry.closed), start=1):
        cam = tris.reshape(-1, 3) @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
        depth = -cam[:, 2]
        keep = (depth.reshape(-1, 3) > _NEAR).all(axis=1)
        objects.append(ObjectMeasure(name=name, label=label, base_colour=colour))
        if not keep.any():
            continue
        xy = cam[:, :2] / np.maximum(depth, _NEAR)[:, None] * scale + 0.5  # image fractions, y up
        xy = xy.reshape(-1, 3, 2)[keep]
        every.append(xy.reshape(-1, 2))
        tri_depth = depth.reshape(-1, 3)[keep].mean(axis=1)
        depth_of.append(float(tri_depth.mean()))
        pixels = np.empty_like(xy)
        pixels[..., 0] = xy[..., 0] * resolution * _SUPER - 0.5
        pixels[..., 1] = (1 - xy[..., 1]) * resolution * _SUPER - 0.5
        fixed = np.round(pixels * (1 << _SHIFT)).astype(np.int32)
        side = resolution * _SUPER << _SHIFT
        inside = ~((fixed[..., 0] < 0).all(axis=1) | (fixed[..., 1] < 0).all(axis=1)
                   | (fixed[..., 0] >= side).all(axis=1) | (fixed[..., 1] >= side).all(axis=1))
        edges = (fixed[:, 1:] - fixed[:, :1]).astype(np.int64)
        area = edges[:, 0, 0] * edges[:, 1, 1] - edges[:, 0, 1] * edges[:, 1, 0]  # < 0: counter-clockwise seen (y up)
        visible = inside & ((area < 0) if closed else (area != 0))  # not off-frame, not edge-on, not a hidden back face
        layers.append((tri_depth[visible], np.full(int(visible.sum()), label, np.uint8), fixed[visible]))
        shapes.append(xy[(area < 0) if closed else (area != 0)])
        objects[-1].box = _box(xy.reshape(-1, 2), None)
    mask = np.zeros((resolution, resolution), np.uint8)
    if layers:  # far to near, each triangle on its own (fillPoly of many is even-odd where they overlap)
        depths, labels, triangles = (np.concatenate(part) for part in zip(*layers))
        if len(triangles):
            x0, y0, x1, y1 = _block_window(triangles, resolution)
            fine = np.zeros(((y1 - y0) * _SUPER, (x1 - x0) * _SUPER), np.uint8)
            triangles = triangles - np.array([x0, y0], np.int32) * (_SUPER << _SHIFT)
            for i in np.argsort(-depths, kind="stable"):
                cv2.fillConvexPoly(fine, triangles[i], int(labels[i]), cv2.LINE_8, _SHIFT)
            mask[y0:y1, x0:x1] = _coverage_labels(fine, len(objects))
    for item in objects:
        if item.box is not None:
            item.box = _box(None, mask == item.label, item.box)
    encoded = _png(mask) if with_mask else None
    if not every:
        return ViewMeasure(view=view, objects=objects, mask_png=encoded)
    subject = _box(None, mask > 0, _box(np.concatenate(every), None))
    depth = float(np.mean(depth_of))
    framed = min(subject.left, subject.bottom) >= 0 and max(subject.right, subject.top) <= 1
    profile = image_profile(mask > 0) if framed else _profile(shapes, resolution)  # in the frame, the mask is its raster
    return ViewMeasure(view=view, subject=subject, objects=objects, profile=profile,
                       frame_width_m=depth / scale, mask_png=encoded)


def _profile(shapes: list[np.ndarray], resolution: int) -> list[float] | None:
    """The subject's silhouette profile (harness.profiles) rasterised over the frame and as far beyond it as the
    subject reaches (up to a frame's width each side): a subject wider than the frame keeps its whole profile,
    and the profile moves continuously as a part leaves the frame. Over the frame alone this raster is the
    label mask's coverage, bit for bit (same samples, same half-covered rule)."""
    xy = np.concatenate(shapes)  # T×3×2 image fractions, y up
    if not len(xy):
        return None
    left, bottom = np.maximum(np.minimum(xy.min(axis=(0, 1)), 0.0), -_BEYOND)
    right, top = np.minimum(np.maximum(xy.max(axis=(0, 1)), 1.0), 1.0 + _BEYOND)
    cols, rows = (int(np.ceil((hi - lo) * resolution)) for lo, hi in ((left, right), (bottom, top)))
    right, top = left + cols / resolution, bottom + rows / resolution
    fine = np.zeros((rows * _SUPER, cols * _SUPER), np.uint8)
    pixels = np.stack([(xy[..., 0] - left) * resolution * _SUPER - 0.5, (top - xy[..., 1]) * resolution * _SUPER - 0.5], -1)
    for triangle in np.round(pixels * (1 << _SHIFT)).astype(np.int32):
        cv2.fillConvexPoly(fine, triangle, 255, cv2.LINE_8, _SHIFT)
    covered = cv2.resize(fine, (cols, rows), interpolation=cv2.INTER_AREA) >= 128
    return image_profile(covered, window=(float(left), float(right), float(bottom), float(top)))


def _block_window(triangles: np.ndarray, resolution: int) -> tuple[int, int, int, int]:
    """The output pixels (x0, y0, x1, y1) the triangles can cover, within the frame: only these are filled
    and sampled (the subject covers a small part of the frame; everything outside stays 0). Offsets are
    whole pixels, so the fill is the same as on the whole frame."""
    pixel = _SUPER << _SHIFT
    lo = triangles.reshape(-1, 2).min(axis=0) // pixel - 1  # a pixel of margin: the fill rounds to samples
    hi = triangles.reshape(-1, 2).max(axis=0) // pixel + 2
    x0, y0 = (int(min(resolution - 1, max(0, v))) for v in lo)
    x1, y1 = (int(max(1, min(resolution, v))) for v in hi)
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def _coverage_labels(fine: np.ndarray, objects: int) -> np.ndarray:
    """A pixel is subject when at least half of it is covered (as an anti-aliased render shows it), labelled
    by the highest label among its samples."""
    h, w = fine.shape[0] // _SUPER, fine.shape[1] // _SUPER
    covered = cv2.resize(cv2.threshold(fine, 0, 255, cv2.THRESH_BINARY)[1], (w, h), interpolation=cv2.INTER_AREA) >= 128
    if objects <= 1:
        return covered.astype(np.uint8)
    top = fine.reshape(h, _SUPER, w, _SUPER).max(axis=(1, 3))
    return np.where(covered, top, 0).astype(np.uint8)


def _box(xy: np.ndarray | None, pixels: np.ndarray | None, outline: Box | None = None) -> Box:
    """From projected points (unclipped edges), or an outline completed by its mask's centroid and area."""
    if xy is not None:
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        return Box(left=float(lo[0]), right=float(hi[0]), top=float(hi[1]), bottom=float(lo[1]),
                   cx=float((lo[0] + hi[0]) / 2), cy=float((lo[1] + hi[1]) / 2), area=0.0)
    assert pixels is not None and outline is not None
    ys, xs = np.nonzero(pixels)
    if not len(xs):
        return outline
    h, w = pixels.shape
    return outline.model_copy(update={"cx": float((xs.mean() + 0.5) / w), "cy": float(1 - (ys.mean() + 0.5) / h),
                                      "area": len(xs) / (h * w)})


def _png(mask: np.ndarray) -> str:
    ok, data = cv2.imencode(".png", mask)
    if not ok:
        raise RenderError("could not encode a subject mask as PNG")
    return base64.b64encode(data.tobytes()).decode("ascii")


def measure_pack(scene: bpy.types.Scene, named: list[str] | None) -> tuple[Geometry, SceneMeasure]:
    """The subject and its geometry, once per pack."""
    subject, background = subject_objects(scene, named)
    return Geometry(subject), SceneMeasure(subject=[o.name for o in subject], background=background)


def measure_only(settings: RenderSettings, named: list[str] | None = None) -> SceneMeasure:
    """Every view of `settings` measured without rendering and without files (fixed framing):
    what a difference of the geometry needs."""
    started = time.perf_counter()
    geometry, measured = measure_pack(bpy.context.scene, named if named is not None else settings.subject)
    for view in dict.fromkeys(settings.views):
        camera = camera_matrix(view, Vector(settings.target), settings.distance, settings.orbit)
        measured.views[view] = measure_view(geometry, view, camera, settings.lens, settings.resolution, with_mask=False)
    measured.elapsed_ms = (time.perf_counter() - started) * 1000
    return measured

"""Where the camera stands for each named view, and how `auto` framing fits the scene.

Fixed framing keeps absolute scale (camera at target + distance · direction(view), given lens),
which a comparison with a reference image needs; auto framing fits the bounding sphere of the
visible geometry into the field of view, for diagnostics.
"""

from __future__ import annotations

import math

from mathutils import Matrix, Vector

__all__ = ["VIEW_DIRECTIONS", "camera_matrix", "auto_frame"]

SENSOR_MM = 36.0
AUTO_MARGIN = 1.08

# unit vector from the target towards the camera
VIEW_DIRECTIONS: dict[str, Vector] = {
    "front": Vector((0.0, -1.0, 0.0)),
    "back": Vector((0.0, 1.0, 0.0)),
    "side": Vector((1.0, 0.0, 0.0)),
    "left": Vector((-1.0, 0.0, 0.0)),
    "top": Vector((0.0, 0.0, 1.0)),
    "iso": Vector((1.0, -1.0, 1.0)).normalized(),
}


def camera_matrix(view: str, target: Vector, distance: float) -> Matrix:
    """World matrix of a camera `distance` from `target` along the view's direction, looking at it, Z up."""
    position = target + VIEW_DIRECTIONS[view] * distance
    forward = (target - position).normalized()
    up = Vector((0.0, 1.0, 0.0)) if abs(forward.z) > 0.999 else Vector((0.0, 0.0, 1.0))
    right = forward.cross(up).normalized()
    cam_up = right.cross(forward)
    rotation = Matrix((right, cam_up, -forward)).transposed()  # columns: camera X, Y, Z(back)
    return Matrix.Translation(position) @ rotation.to_4x4()


def auto_frame(low: Vector, high: Vector, lens: float) -> tuple[Vector, float]:
    """Target and distance that fit the box [low, high] in a square frame of the given lens."""
    center = (low + high) / 2
    radius = max((high - low).length / 2, 1e-3)
    half_fov = math.atan(SENSOR_MM / 2 / lens)
    return center, radius / math.sin(half_fov) * AUTO_MARGIN

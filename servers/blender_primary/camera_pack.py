"""Where the camera stands for each named view, and how `auto` framing fits the scene.

Fixed framing keeps absolute scale (camera at target + distance · direction(view), given lens),
which a comparison with a reference image needs; auto framing fits the bounding sphere of the
visible geometry into the field of view, for diagnostics.
"""

from __future__ import annotations

import math

from mathutils import Matrix, Vector

__all__ = ["VIEW_DIRECTIONS", "view_direction", "camera_matrix", "auto_frame"]

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


def view_direction(view: str, orbit: tuple[float, float] | None = None) -> Vector:
    """The view's direction, turned by `orbit` (azimuth about Z, then elevation, in degrees; kept off the poles)."""
    direction = VIEW_DIRECTIONS[view]
    if not orbit:
        return direction
    azimuth = math.atan2(direction.y, direction.x) + math.radians(orbit[0])
    elevation = max(-89.0, min(89.0, math.degrees(math.asin(direction.z)) + orbit[1]))
    e = math.radians(elevation)
    return Vector((math.cos(e) * math.cos(azimuth), math.cos(e) * math.sin(azimuth), math.sin(e)))


def camera_matrix(view: str, target: Vector, distance: float, orbit: tuple[float, float] | None = None) -> Matrix:
    """World matrix of a camera `distance` from `target` along the view's (orbited) direction, looking at it, Z up."""
    position = target + view_direction(view, orbit) * distance
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

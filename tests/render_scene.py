"""A sphere in front of a camera at the origin: the analytic scene the render tests check the ray caster on."""

from __future__ import annotations

import numpy as np
import trimesh

from humanvid.camera import Camera

RADIUS, DISTANCE, FOCAL, SIZE = 0.5, 3.0, 200.0, 160


def sphere_in_front() -> trimesh.Trimesh:
    """A fine icosphere of RADIUS around (0, 0, −DISTANCE)."""
    mesh = trimesh.creation.icosphere(subdivisions=5, radius=RADIUS)
    mesh.apply_translation([0.0, 0.0, -DISTANCE])
    return mesh


def square_camera() -> Camera:
    return Camera(FOCAL, FOCAL, (SIZE - 1) / 2, (SIZE - 1) / 2, SIZE, SIZE, np.eye(4))


def pixel_angles(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) x / −z and y / −z of each pixel centre's ray."""
    rows, cols = np.mgrid[0:camera.height, 0:camera.width]
    return (cols - camera.cx) / camera.fx, -(rows - camera.cy) / camera.fy

"""The shared pinhole camera: projection, pixel rays, look_at and serialisation agree."""

from __future__ import annotations

import numpy as np
import pytest

from humanvid.camera import Camera, look_at


def test_camera_projection_roundtrip():
    camera = Camera(500.0, 480.0, 319.5, 239.5, 640, 480,
                    look_at([1.0, -3.0, 1.5], [0.0, 0.0, 0.5], up=[0.0, 0.0, 1.0], roll_deg=5.0))
    rows, cols = np.array([0, 100, 479]), np.array([0, 320, 639])
    depth = np.array([1.0, 2.5, 4.0])
    points_cam = camera.pixel_rays(rows, cols) * depth[:, None]
    points_world = points_cam @ camera.rotation - camera.rotation.T @ camera.world_to_camera[:3, 3]
    pixels, projected_depth = camera.project(points_world)
    assert np.allclose(pixels, np.stack([cols, rows], axis=1))
    assert np.allclose(projected_depth, depth)
    target_pixel, _ = camera.with_world_to_camera(look_at([1.0, -3.0, 1.5], [0.0, 0.0, 0.5])).project(
        np.array([[0.0, 0.0, 0.5]]))
    assert np.allclose(target_pixel, [[camera.cx, camera.cy]])
    cv = camera.world_to_camera_cv @ np.append(points_world[1], 1.0)
    assert cv[2] == pytest.approx(2.5)  # OpenCV: looking down +z
    assert np.allclose(Camera.from_dict(camera.as_dict()).world_to_camera, camera.world_to_camera)
    assert np.allclose(camera.position, [1.0, -3.0, 1.5])

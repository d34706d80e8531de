"""Ray casting through a camera: first hits, depth and normals on an analytic sphere."""

from __future__ import annotations

import math

import numpy as np
import pytest

from humanvid.camera import Camera, look_at
from humanvid.render.raycast import cast, normal_map
from render_scene import DISTANCE, FOCAL, RADIUS, SIZE, pixel_angles

def test_sphere_mask_matches_analytic_silhouette(sphere, camera):
    hits = cast(sphere, camera)
    x, y = pixel_angles(camera)
    radius_px = FOCAL * RADIUS / math.sqrt(DISTANCE**2 - RADIUS**2)  # image of the tangent cone
    r_px = np.hypot(x, y) * FOCAL
    mask = hits.face >= 0
    assert np.all(mask[r_px < radius_px - 1.0])
    assert not np.any(mask[r_px > radius_px + 1.0])


def test_moved_camera_sees_same_depth(sphere):
    """A camera looking at the sphere from the side along a rotated axis sees the same depth."""
    eye = np.array([DISTANCE, 0.0, -DISTANCE])  # to the right of the sphere, same distance
    camera = Camera(FOCAL, FOCAL, (SIZE - 1) / 2, (SIZE - 1) / 2, SIZE, SIZE,
                    look_at(eye, [0.0, 0.0, -DISTANCE], up=[0.0, 1.0, 0.0]))
    hits = cast(sphere, camera)
    centre = SIZE // 2
    assert hits.depth[centre, centre] == pytest.approx(DISTANCE - RADIUS, abs=2e-3)


def test_normal_map_is_the_sphere_seen_head_on(sphere, camera):
    mask, normals = normal_map(sphere, camera)
    assert np.array_equal(mask, cast(sphere, camera).face >= 0)
    assert mask.dtype == bool and normals.shape == (SIZE, SIZE, 3) and normals.dtype == np.float32
    assert np.all(normals[~mask] == 0)
    assert np.allclose(np.linalg.norm(normals[mask], axis=1), 1.0, atol=1e-5)
    centre = SIZE // 2
    assert np.allclose(normals[centre, centre], [0.0, 0.0, 1.0], atol=0.02)  # facing the camera
    right = normals[centre, centre + 20]
    assert right[0] > 0.3 and abs(right[1]) < 0.05  # the sphere's right side turns right


def test_a_mesh_out_of_view_hits_nothing(sphere):
    behind = Camera(FOCAL, FOCAL, (SIZE - 1) / 2, (SIZE - 1) / 2, SIZE, SIZE,
                    look_at([0.0, 0.0, 0.0], [0.0, 0.0, 1.0], up=[0.0, 1.0, 0.0]))  # looks away from the sphere
    hits = cast(sphere, behind)
    assert np.all(hits.face == -1) and np.all(hits.depth == 0) and np.all(hits.barycentric == 0)

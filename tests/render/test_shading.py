"""Lambert + ambient shading and shadow rays."""

from __future__ import annotations

import numpy as np
import trimesh

from humanvid.camera import Camera
from humanvid.render.shading import Lighting, shade, unshadowed


def test_shade_is_ambient_in_shadow_and_brighter_towards_the_light():
    lighting = Lighting(direction=(0.0, 0.0, 1.0), ambient=0.2, diffuse=0.8)
    albedo = np.full((3, 3), 0.5)
    normals = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    shaded = shade(albedo, normals, lighting, lit=np.array([True, True, False]))
    assert shaded.shape == (3, 3) and shaded.min() >= 0.0 and shaded.max() <= 1.0
    assert np.all(shaded[0] > shaded[1])  # facing the light beats grazing it
    assert np.allclose(shaded[1], shaded[2])  # grazing light and shadow both leave ambient only
    assert np.allclose(shade(albedo, normals, lighting), shade(albedo, normals, lighting, np.ones(3, bool)))


def test_unshadowed_is_false_behind_an_occluder_and_facing_away():
    occluder = trimesh.creation.box(extents=[0.2, 0.2, 0.2])
    occluder.apply_translation([1.0, 0.0, 0.0])
    camera = Camera(100.0, 100.0, 49.5, 49.5, 100, 100, np.eye(4))
    lighting = Lighting(direction=(1.0, 0.0, 0.0))  # from +x, camera frame = world frame here
    points = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 2.0, 0.0]])
    normals = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
    assert unshadowed(occluder, points, normals, lighting, camera).tolist() == [False, True, False]

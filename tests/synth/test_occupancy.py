"""Occupancy samples: balanced, labelled like the surface, stored compactly."""

from __future__ import annotations

import numpy as np
import trimesh

from humanvid.synth.groundtruth import build_clothed_mesh, to_camera_frame
from humanvid.synth.occupancy import (OccupancyRecipe, load_occupancy, sample_occupancy, sample_occupancy_camera,
                                      save_occupancy)
from humanvid.synth.solids import Material, Solid

RADIUS = 0.2


def sphere_ground_truth():
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=RADIUS)
    solid = Solid(sphere.vertices, sphere.faces.astype(np.int64), 0, 0)
    transforms = np.tile(np.eye(4), (len(sphere.vertices), 1, 1))
    return build_clothed_mesh([solid], [Material("skin", "skin", (0.7, 0.5, 0.4))], sphere.vertices, transforms)


def test_samples_are_balanced_and_correct():
    mesh, grid = sphere_ground_truth()
    recipe = OccupancyRecipe(count=4000)
    points, inside = sample_occupancy(mesh, grid, np.random.default_rng(0), recipe)
    assert points.shape == (4000, 3) and inside.mean() == 0.5
    radius = np.linalg.norm(points, axis=1)
    clear = np.abs(radius - RADIUS) > 0.004  # away from the 4 mm voxels' blur
    assert np.array_equal(inside[clear], radius[clear] < RADIUS)
    assert np.mean(np.abs(radius - RADIUS) < 0.03) > 0.4  # mostly near the surface
    again = sample_occupancy(mesh, grid, np.random.default_rng(0), recipe)
    assert np.array_equal(again[0], points) and np.array_equal(again[1], inside)


def test_camera_frame_samples_are_labelled_after_rounding(tmp_path):
    mesh, grid = sphere_ground_truth()
    world_to_camera = np.eye(4)
    world_to_camera[:3, 3] = [0.3, -0.2, -4.0]
    points, inside = sample_occupancy_camera(mesh, grid, np.random.default_rng(1), world_to_camera,
                                             OccupancyRecipe(count=2000))
    assert points.dtype == np.float16 and inside.mean() == 0.5
    world = to_camera_frame(points.astype(np.float64), np.linalg.inv(world_to_camera))
    assert np.array_equal(grid.contains(world), inside)
    save_occupancy(tmp_path / "occupancy.npz", points, inside)
    loaded_points, loaded_inside = load_occupancy(tmp_path / "occupancy.npz")
    assert np.array_equal(loaded_points, points.astype(np.float32)) and np.array_equal(loaded_inside, inside)
    assert (tmp_path / "occupancy.npz").stat().st_size < 2000 * 7 + 1000

"""Meshing an analytic occupancy: the right shape comes out, and the octree saves work."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

from humanvid.exchange.obj import write_obj
from humanvid.implicit.inference.meshing import (LATTICE_CLEARANCE, Grid, bounding_box, evaluate_coarse_to_fine,
                                                 extract_surface, grid_around)


def sphere_occupancy(center, radius, softness=0.005):
    def occupancy(points):
        distance = np.linalg.norm(points - center, axis=1)
        return 1.0 / (1.0 + np.exp((distance - radius) / softness))
    return occupancy


def test_sphere_comes_out_with_the_right_radius_and_closed():
    center, radius = np.array([0.1, -0.2, -3.0]), 0.35
    grid = grid_around(center - 0.5, center + 0.5, resolution=128, coarse_step=8)
    volume, stats = evaluate_coarse_to_fine(sphere_occupancy(center, radius), grid, coarse_step=8)
    mesh = extract_surface(volume, grid)
    distances = np.linalg.norm(mesh.vertices - center, axis=1)
    assert distances.mean() == pytest.approx(radius, abs=0.002)
    assert distances.std() < 0.002
    assert mesh.is_watertight and mesh.volume > 0  # outward normals
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * radius**3, rel=0.02)
    assert stats.evaluated < 0.25 * stats.total  # only near the surface


def test_coarse_to_fine_equals_dense_evaluation_near_the_surface():
    center, radius = np.zeros(3), 0.2
    occupancy = sphere_occupancy(center, radius, softness=0.01)
    grid = grid_around(center - 0.3, center + 0.3, resolution=64, coarse_step=4)
    fast, _ = evaluate_coarse_to_fine(occupancy, grid, coarse_step=4)
    dense, _ = evaluate_coarse_to_fine(occupancy, grid, coarse_step=1)
    assert np.array_equal(fast > 0.5, dense > 0.5)


def test_keep_largest_piece_and_respect_the_hull():
    big, small = np.array([0.0, 0.0, 0.0]), np.array([0.6, 0.0, 0.0])

    def two_spheres(points):
        return np.maximum(sphere_occupancy(big, 0.25)(points), sphere_occupancy(small, 0.1)(points))

    grid = grid_around(np.array([-0.4, -0.4, -0.4]), np.array([0.8, 0.4, 0.4]), resolution=96, coarse_step=4)
    volume, _ = evaluate_coarse_to_fine(two_spheres, grid)
    mesh = extract_surface(volume, grid)
    assert np.linalg.norm(mesh.vertices.mean(axis=0) - big) < 0.01
    both = extract_surface(volume, grid, largest_only=False)
    assert len(both.split(only_watertight=False)) == 2

    # a hull that excludes x > 0.1 never evaluates there, and nothing appears there
    seen = []

    def counting(points):
        seen.append(points)
        return two_spheres(points)

    volume, stats = evaluate_coarse_to_fine(counting, grid, keep=lambda p: p[:, 0] < 0.1)
    assert np.concatenate(seen)[:, 0].max() < 0.1
    cut = extract_surface(volume, grid, largest_only=False)
    assert cut.vertices[:, 0].max() < 0.1 + grid.voxel


def test_empty_field_gives_an_empty_mesh():
    grid = grid_around(np.zeros(3), np.ones(3), resolution=16, coarse_step=4)
    volume, _ = evaluate_coarse_to_fine(lambda p: np.zeros(len(p), np.float32), grid)
    assert len(extract_surface(volume, grid).faces) == 0


def test_bounding_box_of_occupied_samples():
    occupied = np.zeros((6, 7, 8), bool)
    occupied[2, 3, 1] = occupied[4, 5, 7] = True
    low, high = bounding_box(occupied)
    assert low.tolist() == [2, 3, 1] and high.tolist() == [5, 6, 8]
    low, high = bounding_box(occupied, margin=1)
    assert low.tolist() == [1, 2, 0] and high.tolist() == [6, 7, 8]  # clipped to the volume


def test_no_two_vertices_coincide_so_the_written_mesh_stays_watertight_when_merged(tmp_path):
    # Values at or a hair's breadth from the level put marching-cubes vertices on (or next to) lattice points,
    # where the vertices of several edges meet: written with five decimals and merged by distance when read,
    # they would fuse and open the mesh.
    rng = np.random.default_rng(3)
    volume = (rng.random((24, 24, 24)) < 0.5).astype(np.float32)
    volume = np.where(rng.random(volume.shape) < 0.3, np.float32(0.5), volume)  # exactly the level
    volume += np.where(rng.random(volume.shape) < 0.3, rng.choice([-1e-7, 1e-7], volume.shape), 0).astype(np.float32)
    volume[[0, -1]] = volume[:, [0, -1]] = volume[:, :, [0, -1]] = 0
    grid = Grid(np.array([0.3, -1.1, -2.9]), 0.0016, volume.shape)  # cells small enough for 5 decimals to matter
    mesh = extract_surface(volume, grid, largest_only=False)
    assert mesh.is_watertight
    pairs = cKDTree(mesh.vertices).query(mesh.vertices, k=2)[0][:, 1]
    assert pairs.min() >= np.sqrt(2) * LATTICE_CLEARANCE * grid.voxel * (1 - 1e-6)
    write_obj(tmp_path / "mesh.obj", mesh.vertices, mesh.faces)
    merged = trimesh.load(tmp_path / "mesh.obj")  # trimesh's default: vertices merged by distance
    assert len(merged.vertices) == len(mesh.vertices) and merged.is_watertight

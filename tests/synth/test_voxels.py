"""Exact voxel union of closed meshes and its sparse meshing, on solids with known answers."""

from __future__ import annotations

import numpy as np
import trimesh

from humanvid.synth.solids import Solid
from humanvid.synth.voxels import smooth_occupancy, sparse_marching_cubes, voxelize


def sphere(radius: float, centre=(0.0, 0.0, 0.0)) -> Solid:
    mesh = trimesh.creation.icosphere(subdivisions=4, radius=radius)
    return Solid(mesh.vertices + np.asarray(centre), mesh.faces.astype(np.int64), 0, 0)


def test_voxelize_sphere_volume():
    origin, inside = voxelize([sphere(0.1)], voxel=0.004)
    volume = inside.sum() * 0.004**3
    assert abs(volume - 4 / 3 * np.pi * 0.1**3) / volume < 0.03


def test_union_of_overlapping_and_self_overlapping_solids():
    a, b = sphere(0.1), sphere(0.1, (0.1, 0.0, 0.0))
    doubled = Solid(np.concatenate([a.vertices, a.vertices]), np.concatenate([a.faces, a.faces + len(a.vertices)]), 0, 0)
    _, union = voxelize([a, b, doubled], voxel=0.005)
    _, single = voxelize([doubled], voxel=0.005)
    _, plain = voxelize([a], voxel=0.005)
    assert single.sum() == plain.sum()  # a solid overlapping itself counts once
    lens = 2 * np.pi * (0.1 - 0.05) ** 2 * (2 * 0.1 + 0.05) / 3  # two spherical caps
    expected = 2 * 4 / 3 * np.pi * 0.1**3 - lens
    assert abs(union.sum() * 0.005**3 - expected) / expected < 0.04


def test_sparse_marching_cubes_matches_dense_and_is_watertight():
    import mcubes

    rng = np.random.default_rng(0)
    grid = np.zeros((60, 50, 70), dtype=bool)
    x, y, z = np.mgrid[:60, :50, :70]
    for _ in range(6):
        c, r = rng.uniform(15, 45, 3), rng.uniform(5, 12)
        grid |= (x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2 < r * r
    vertices, faces = sparse_marching_cubes(grid, 0.4)
    padded = np.pad(grid, 3)
    dense_vertices, dense_faces = mcubes.marching_cubes(smooth_occupancy(padded), 0.4)
    assert len(faces) == len(dense_faces)
    assert np.allclose(np.sort((vertices + 3).round(4), axis=0), np.sort(dense_vertices.round(4), axis=0), atol=1e-3)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    assert mesh.is_watertight

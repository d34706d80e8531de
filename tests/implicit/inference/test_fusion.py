"""Temporal fusion: a static scene is unchanged, a moving one is followed, flicker is averaged."""

from __future__ import annotations

import numpy as np
import pytest

from humanvid.implicit.inference.fusion import PosedBody, carry, fused_occupancy, temporal_weights


def body_at(offset: np.ndarray, rng=np.random.default_rng(0)) -> PosedBody:
    """A cloud of 'vertices' whose skinning is a pure translation by `offset`."""
    rest = rng.normal(0, 0.3, (500, 3))
    transforms = np.tile(np.eye(4), (500, 1, 1))
    transforms[:, :3, 3] = offset
    return PosedBody(rest + offset, transforms)


def ball(center, radius=0.3, softness=0.01):
    return lambda p: (1.0 / (1.0 + np.exp((np.linalg.norm(p - center, axis=1) - radius) / softness))).astype(np.float32)


def test_weights_are_symmetric_and_sum_to_one():
    weights = temporal_weights(2)
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights[-1] == weights[1] and weights[0] > weights[1] > weights[2]


def test_static_scene_changes_nothing():
    body = body_at(np.zeros(3))
    occupancies = {t: ball(np.zeros(3)) for t in range(5)}
    bodies = {t: body for t in range(5)}
    points = np.random.default_rng(1).uniform(-0.5, 0.5, (2000, 3)).astype(np.float32)
    fused = fused_occupancy(2, occupancies, bodies, window=2)(points)
    assert np.allclose(fused, occupancies[2](points), atol=1e-6)


def test_moving_surface_is_followed_through_the_body():
    velocity = np.array([0.05, 0.0, 0.0])
    occupancies = {t: ball(t * velocity) for t in range(5)}
    bodies = {t: body_at(t * velocity) for t in range(5)}
    points = np.random.default_rng(2).uniform(-0.6, 0.8, (3000, 3)).astype(np.float32)
    fused = fused_occupancy(2, occupancies, bodies, window=2)(points)
    assert np.allclose(fused, occupancies[2](points), atol=1e-4)
    assert np.allclose(carry(points, bodies[2], bodies[4]), points + 2 * velocity, atol=1e-5)


def test_flicker_is_averaged_and_edges_of_the_clip_use_what_exists():
    rng = np.random.default_rng(3)
    radii = 0.3 + rng.normal(0, 0.02, 7)  # the same ball, its size flickering
    occupancies = {t: ball(np.zeros(3), radii[t]) for t in range(7)}
    bodies = {t: body_at(np.zeros(3)) for t in range(7)}
    direction = np.array([[1.0, 0.0, 0.0]])
    r = np.linspace(0.2, 0.4, 801)[:, None] * direction

    def surface_radius(fn):
        values = fn(r.astype(np.float32))
        return float(r[np.argmin(np.abs(values - 0.5)), 0])

    single = np.array([surface_radius(occupancies[t]) for t in range(7)])
    fused = np.array([surface_radius(fused_occupancy(t, occupancies, bodies, 2)) for t in range(7)])
    assert np.std(np.diff(fused)) < 0.6 * np.std(np.diff(single))
    assert fused_occupancy(0, occupancies, bodies, 2)(r[:3].astype(np.float32)).shape == (3,)


def test_volume_field_reads_the_lattice_and_interpolates_between_samples():
    from humanvid.implicit.inference.fusion import VolumeField
    from humanvid.implicit.inference.meshing import grid_around

    grid = grid_around(np.full(3, -1.0), np.full(3, 1.0), 32, 8)
    index = np.stack(np.meshgrid(*[np.arange(n) for n in grid.shape], indexing="ij"), -1).reshape(-1, 3)
    lattice = grid.points(index)
    volume = ball(np.zeros(3), 0.3, 0.05)(lattice).reshape(grid.shape)
    field = VolumeField.cropped(volume, grid)
    assert all(a < b for a, b in zip(field.volume.shape, volume.shape))  # the empty margin is dropped
    assert np.allclose(field(lattice), volume.ravel(), atol=1e-3)  # the lattice's values, the margin read as 0
    midpoints = lattice[:-1] + 0.5 * grid.voxel * np.array([1.0, 0.0, 0.0])
    same_row = index[:-1, 0] + 1 < grid.shape[0]
    expected = 0.5 * (volume.ravel()[:-1] + volume.reshape(grid.shape)[
        np.minimum(index[:-1, 0] + 1, grid.shape[0] - 1), index[:-1, 1], index[:-1, 2]])
    assert np.allclose(field(midpoints)[same_row], expected[same_row], atol=1e-3)
    assert np.all(field(np.array([[2.0, 0.0, 0.0], [0.0, -3.0, 0.0]])) == 0.0)  # outside the box: empty


def test_fused_field_of_volumes_equals_fused_functions():
    velocity = np.array([0.04, 0.0, 0.0])
    from humanvid.implicit.inference.fusion import VolumeField
    from humanvid.implicit.inference.meshing import grid_around

    grid = grid_around(np.full(3, -0.6), np.full(3, 0.8), 56, 8)
    index = np.stack(np.meshgrid(*[np.arange(n) for n in grid.shape], indexing="ij"), -1).reshape(-1, 3)
    functions = {t: ball(t * velocity, 0.3, 0.05) for t in range(5)}
    fields = {t: VolumeField.cropped(f(grid.points(index)).reshape(grid.shape), grid) for t, f in functions.items()}
    bodies = {t: body_at(t * velocity) for t in range(5)}
    points = np.random.default_rng(4).uniform(-0.4, 0.6, (2000, 3)).astype(np.float32)
    from_volumes = fused_occupancy(2, fields, bodies, 2)(points)
    from_functions = fused_occupancy(2, functions, bodies, 2)(points)
    assert np.abs(from_volumes - from_functions).max() < 0.02  # trilinear reads of a 2.5 cm lattice

"""Occupancy samples of a ground-truth clothed surface for training the implicit network.

Points near the surface (surface samples moved by Gaussian offsets of a few cm) and
uniform in the padded bounding box, labelled inside/outside by the exact voxel
union the surface was meshed from (:class:`humanvid.synth.groundtruth.VoxelGrid`:
the same smoothed field and level, so labels agree with the mesh), then balanced
half inside, half outside. Stored points are float16 in the camera frame; they are
labelled after rounding, so a stored point and its label always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanvid import atomic
from humanvid.synth.groundtruth import ClothedMesh, VoxelGrid, to_camera_frame


@dataclass(frozen=True)
class OccupancyRecipe:
    """How many points, and where. Fractions of the near-surface points per σ [m]."""

    count: int = 16384
    sigmas: tuple[float, ...] = (0.01, 0.05)
    sigma_weights: tuple[float, ...] = (0.6, 0.4)
    uniform_fraction: float = 0.1  # of all candidates, uniform in the padded box
    padding: float = 0.1  # [m] around the surface's bounding box
    oversample: float = 2.0  # candidates drawn per kept point (for balancing)


def surface_points(mesh: ClothedMesh, rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 3) points uniformly distributed over the mesh's area."""
    triangles = mesh.vertices[mesh.faces]
    area = 0.5 * np.linalg.norm(np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1)
    face = rng.choice(len(area), size=count, p=area / area.sum())
    u, v = rng.random(count), rng.random(count)
    flip = u + v > 1.0
    u, v = np.where(flip, 1.0 - u, u), np.where(flip, 1.0 - v, v)
    t = triangles[face]
    return t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0])


def candidate_points(mesh: ClothedMesh, rng: np.random.Generator, recipe: OccupancyRecipe) -> np.ndarray:
    """(M, 3) unlabelled world points: near the surface and uniform in the padded box."""
    total = int(recipe.count * recipe.oversample)
    uniform = int(round(total * recipe.uniform_fraction))
    near = total - uniform
    weights = np.asarray(recipe.sigma_weights, dtype=np.float64)
    sigma = np.asarray(recipe.sigmas)[rng.choice(len(weights), size=near, p=weights / weights.sum())]
    points = surface_points(mesh, rng, near) + rng.normal(size=(near, 3)) * sigma[:, None]
    lo = mesh.vertices.min(axis=0) - recipe.padding
    hi = mesh.vertices.max(axis=0) + recipe.padding
    return np.concatenate([points, lo + rng.random((uniform, 3)) * (hi - lo)])


def balanced(points: np.ndarray, inside: np.ndarray, count: int, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray]:
    """Keep ``count`` points, half inside and half outside where there are enough of each."""
    inner, outer = np.flatnonzero(inside), np.flatnonzero(~inside)
    take_in = min(len(inner), count // 2)
    take_out = min(len(outer), count - take_in)
    take_in = min(len(inner), count - take_out)
    chosen = np.concatenate([rng.choice(inner, take_in, replace=False), rng.choice(outer, take_out, replace=False)])
    chosen = chosen[rng.permutation(len(chosen))]
    return points[chosen], inside[chosen]


def sample_occupancy(mesh: ClothedMesh, grid: VoxelGrid, rng: np.random.Generator,
                     recipe: OccupancyRecipe = OccupancyRecipe()) -> tuple[np.ndarray, np.ndarray]:
    """Balanced occupancy samples in the world frame: points (N, 3) float64 and inside (N,) bool."""
    points = candidate_points(mesh, rng, recipe)
    return balanced(points, grid.contains(points), recipe.count, rng)


def sample_occupancy_camera(mesh: ClothedMesh, grid: VoxelGrid, rng: np.random.Generator,
                            world_to_camera: np.ndarray, recipe: OccupancyRecipe = OccupancyRecipe()
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Balanced samples stored in the camera frame: points (N, 3) float16 and inside (N,) bool.

    Points are rounded to float16 first and labelled at their rounded positions.
    world_to_camera: (4, 4), e.g. ``Camera.world_to_camera`` of the renderer.
    """
    world_to_camera = np.asarray(world_to_camera, dtype=np.float64)
    stored = to_camera_frame(candidate_points(mesh, rng, recipe), world_to_camera).astype(np.float16)
    camera_to_world = np.linalg.inv(world_to_camera)
    world = to_camera_frame(stored.astype(np.float64), camera_to_world)
    return balanced(stored, grid.contains(world), recipe.count, rng)


def save_occupancy(path, points: np.ndarray, inside: np.ndarray) -> None:
    """Write ``points`` (N, 3) as float16 and ``inside`` (N,) as packed bits to an npz file, atomically."""
    atomic.write_npz(path, points=np.asarray(points, dtype=np.float16), inside=np.packbits(inside),
                     count=np.int64(len(inside)))


def load_occupancy(path) -> tuple[np.ndarray, np.ndarray]:
    """Read what :func:`save_occupancy` wrote: points (N, 3) float32, inside (N,) bool."""
    with np.load(path) as data:
        count = int(data["count"])
        return data["points"].astype(np.float32), np.unpackbits(data["inside"])[:count].astype(bool)

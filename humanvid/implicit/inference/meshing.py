"""Occupancy field → watertight mesh: coarse-to-fine grid evaluation and marching cubes.

The field is evaluated on a coarse lattice first; each finer level evaluates
only the points whose enclosing coarse cell straddles the 0.5 level set, and
fills the rest by trilinear interpolation (the octree scheme of PIFu's
reconstruction). Points the caller marks as certainly empty (outside the
visual hull of the mask) are never evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import mcubes
import numpy as np
import torch
import trimesh
from scipy import ndimage

LATTICE_CLEARANCE = 0.01  # cells: how near a mesh vertex may come to a lattice point (0.09 mm at 256³ of a person)

OccupancyFn = Callable[[np.ndarray], np.ndarray]  # (N, 3) float32 points → (N,) occupancy in [0, 1]
KeepFn = Callable[[np.ndarray], np.ndarray]  # (N, 3) points → (N,) bool: may be occupied at all


@dataclass(frozen=True)
class Grid:
    """A regular lattice of sample points: point (i, j, k) = origin + voxel · (i, j, k)."""

    origin: np.ndarray  # (3,) position of sample (0, 0, 0) [m]
    voxel: float  # spacing [m]
    shape: tuple[int, int, int]  # samples per axis, each a multiple of the coarse step plus one

    def points(self, index: np.ndarray) -> np.ndarray:
        """(N, 3) positions of (N, 3) integer sample indices."""
        return (self.origin + self.voxel * index).astype(np.float32)


def grid_around(box_min: np.ndarray, box_max: np.ndarray, resolution: int, coarse_step: int) -> Grid:
    """A lattice with `resolution` cells along the box's longest side, padded to the coarse step."""
    box_min, box_max = np.asarray(box_min, float), np.asarray(box_max, float)
    voxel = float((box_max - box_min).max() / resolution)
    cells = np.ceil((box_max - box_min) / voxel / coarse_step).astype(int) * coarse_step
    center = 0.5 * (box_min + box_max)
    origin = center - 0.5 * cells * voxel
    return Grid(origin, voxel, tuple(int(c) + 1 for c in cells))


@dataclass
class FieldStats:
    evaluated: int  # points the occupancy function saw
    total: int  # points in the lattice


def evaluate_coarse_to_fine(occupancy: OccupancyFn, grid: Grid, coarse_step: int = 4,
                            keep: KeepFn | None = None, batch: int = 262_144) -> tuple[np.ndarray, FieldStats]:
    """Sample the occupancy on the whole lattice, evaluating only where the surface may be.

    Returns the (X, Y, Z) float32 volume and how many points were evaluated.
    """
    if coarse_step < 1 or coarse_step & (coarse_step - 1):
        raise ValueError("coarse_step must be a power of two")
    if any((n - 1) % coarse_step for n in grid.shape):
        raise ValueError("grid shape must be a multiple of coarse_step plus one")
    evaluated = 0

    def run(index: np.ndarray, step: int) -> np.ndarray:
        nonlocal evaluated
        points = grid.points(index * step)
        values = np.zeros(len(index), np.float32)
        alive = np.flatnonzero(np.ones(len(index), bool) if keep is None else keep(points))
        for start in range(0, len(alive), batch):
            chunk = alive[start:start + batch]
            values[chunk] = occupancy(points[chunk])
        evaluated += len(alive)
        return values

    step = coarse_step
    shape = tuple((n - 1) // step + 1 for n in grid.shape)
    values = run(np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1).reshape(-1, 3),
                 step).reshape(shape)
    while step > 1:
        inside = values > 0.5
        corners = [inside[x:x + inside.shape[0] - 1, y:y + inside.shape[1] - 1, z:z + inside.shape[2] - 1]
                   for x, y, z in np.ndindex(2, 2, 2)]
        mixed = np.logical_or.reduce(corners) & ~np.logical_and.reduce(corners)  # cells the surface crosses
        values = _upsample(values)
        todo = _around_cells(mixed, values.shape)
        todo[::2, ::2, ::2] = False  # already exact from the coarser level
        step //= 2
        flat = np.flatnonzero(todo)  # cheaper than a 3-D argwhere
        if len(flat):
            np.put(values, flat, run(np.stack(np.unravel_index(flat, todo.shape), -1), step))
    return values, FieldStats(evaluated, int(np.prod(grid.shape)))


def _upsample(values: np.ndarray) -> np.ndarray:
    """Double the lattice density; new samples are trilinear interpolations (the midpoints' means)."""
    finer = tuple(2 * n - 1 for n in values.shape)
    volume = torch.from_numpy(np.ascontiguousarray(values, np.float32))[None, None]
    return torch.nn.functional.interpolate(volume, size=finer, mode="trilinear", align_corners=True)[0, 0].numpy()


def _around_cells(cells: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """(X, Y, Z) bool: the samples of the finer lattice `shape` at the corners, edges, faces and centres of the
    marked (X', Y', Z') coarse cells (each spans 3 finer samples per axis): a separable 3-sample dilation."""
    marked = np.zeros(shape, bool)
    marked[1::2, 1::2, 1::2] = cells  # the cells' centres
    for axis in range(3):
        grown = marked.copy()
        lower, upper = [slice(None)] * 3, [slice(None)] * 3
        lower[axis], upper[axis] = slice(None, -1), slice(1, None)
        grown[tuple(lower)] |= marked[tuple(upper)]
        grown[tuple(upper)] |= marked[tuple(lower)]
        marked = grown
    return marked


def bounding_box(occupied: np.ndarray, margin: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(3,) low and (3,) exclusive high index of the True samples of a non-empty (X, Y, Z) mask,
    widened by `margin` samples and clipped to the volume (from its projections: no index list)."""
    low, high = [], []
    for axis in range(3):
        present = np.flatnonzero(occupied.any(axis=tuple(a for a in range(3) if a != axis)))
        low.append(max(present[0] - margin, 0))
        high.append(min(present[-1] + 1 + margin, occupied.shape[axis]))
    return np.array(low), np.array(high)


def extract_surface(volume: np.ndarray, grid: Grid, level: float = 0.5, largest_only: bool = True) -> trimesh.Trimesh:
    """Marching cubes on the volume (padded with empty space, so the surface is closed).

    Vertices are in the grid's frame [m]; triangles face outwards. With
    largest_only, only the largest connected region of occupied samples is
    meshed (stray blobs dropped before meshing, which is cheaper than after).
    """
    occupied = volume > level
    if not occupied.any():
        return trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), int), process=False)
    low, high = bounding_box(occupied, margin=1)  # all the work below is inside this box
    inner = tuple(slice(a, b) for a, b in zip(low, high))
    box, occupied = volume[inner], occupied[inner]
    if largest_only:
        labels, count = ndimage.label(occupied, structure=np.ones((3, 3, 3)))
        if count > 1:
            sizes = np.bincount(labels.ravel())
            sizes[0] = 0
            box = np.where(labels == sizes.argmax(), box, np.minimum(box, level - 1e-3))
    padded = np.pad(box, 1, mode="constant", constant_values=0.0)
    padded[padded == level] = np.nextafter(np.float32(level), np.float32(-np.inf))  # no vertex on a lattice point
    vertices, faces = mcubes.marching_cubes(padded, level)
    vertices = grid.origin + grid.voxel * (clear_of_lattice_points(vertices) - 1.0 + low)
    return trimesh.Trimesh(vertices, faces, process=False)


def clear_of_lattice_points(vertices: np.ndarray, clearance: float = LATTICE_CLEARANCE) -> np.ndarray:
    """(V, 3) marching-cubes vertices in lattice index coordinates (each on one lattice edge, strictly between
    its ends) moved along their edge to at least `clearance` of a cell from either end.

    Two vertices on different edges are then at least √2 · clearance cells apart, so no two coincide when
    written with a few decimals (an OBJ) and merged by distance when read (trimesh, Blender): the mesh
    stays watertight as read.
    """
    whole = np.floor(vertices)
    fraction = vertices - whole
    return whole + np.where(fraction > 0, np.clip(fraction, clearance, 1.0 - clearance), 0.0)

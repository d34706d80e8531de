"""The ground-truth clothed surface on disk: its exact voxel grid, bit-packed, in one small npz.

A 4 mm mesh of a clothed person is ~5 MB even compressed; the grid it is meshed from
packs to ~0.1 MB, and meshing it again gives the generator's surface bit for bit
(the same ``VoxelGrid.surface``). Members: ``format``, ``inside_bits`` (packbits of the
C-order grid), ``shape`` (3,), ``origin`` (3,) world [m], ``voxel``, ``level``, ``passes``
and ``world_to_camera`` (4, 4). Surfaces read back are in the OpenGL camera frame of
DESIGN.md, like everything humanvid exports.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humanvid.atomic import write_npz_compressed
from humanvid.synth.groundtruth import VoxelGrid, to_camera_frame

FORMAT = "humanvid-groundtruth-grid-1"


def write_groundtruth(path: str | Path, grid: VoxelGrid, world_to_camera: np.ndarray) -> None:
    """Store ``grid`` (Anny's world frame) and the camera it is seen from, atomically."""
    write_npz_compressed(
        path,
        format=np.array(FORMAT),
        inside_bits=np.packbits(np.ascontiguousarray(grid.inside).ravel()),
        shape=np.array(grid.inside.shape, dtype=np.int64),
        origin=np.asarray(grid.origin, dtype=np.float64),
        voxel=np.float64(grid.voxel),
        level=np.float64(grid.level),
        passes=np.int64(grid.passes),
        world_to_camera=np.asarray(world_to_camera, dtype=np.float64),
    )


def read_grid(path: str | Path) -> tuple[VoxelGrid, np.ndarray]:
    """The stored grid (world frame) and its world → camera transform (4, 4)."""
    with np.load(path) as data:
        if "format" not in data.files or str(data["format"]) != FORMAT:
            raise ValueError(f"{path}: not a humanvid ground-truth file ({FORMAT})")
        shape = tuple(int(n) for n in data["shape"])
        inside = np.unpackbits(data["inside_bits"], count=int(np.prod(shape))).astype(bool).reshape(shape)
        grid = VoxelGrid(origin=data["origin"], voxel=float(data["voxel"]), inside=inside,
                         level=float(data["level"]), passes=int(data["passes"]))
        return grid, data["world_to_camera"]


def read_groundtruth(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The clothed surface of a stored grid: vertices (N, 3) float32 camera frame [m], faces (M, 3) int64.

    Meshing costs ~0.5 s for a person on a 4 mm grid.
    """
    grid, world_to_camera = read_grid(path)
    vertices, faces = grid.surface()
    return to_camera_frame(vertices, world_to_camera).astype(np.float32), faces


def groundtruth_trimesh(path: str | Path):
    """:func:`read_groundtruth` as a ``trimesh.Trimesh`` (float64 vertices, not processed)."""
    import trimesh

    vertices, faces = read_groundtruth(path)
    return trimesh.Trimesh(vertices.astype(np.float64), faces, process=False)

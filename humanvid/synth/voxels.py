"""Exact voxelisation of a union of closed meshes, and meshing its smoothed occupancy.

``voxelize`` casts one vertical ray per grid column through every triangle of each
closed mesh and turns the sorted signed crossings into inside intervals (non-zero
winding rule per mesh, so overlapping and self-intersecting meshes are fine); the
intervals of all meshes are summed in one difference array along z. The occupancy
is then smoothed by binomial [1, 2, 1]/4 filters and meshed with PyMCubes, only in
the blocks that hold the surface (``sparse_marching_cubes``).
"""

from __future__ import annotations

import numpy as np

from humanvid.synth.solids import Solid


def voxelize(solids: list[Solid], voxel: float = 0.004, pad: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Exact column voxelisation of the union of closed solids.

    Returns origin (3,) and inside (X, Y, Z) bool, voxel centres at ``origin + voxel * index``.
    Each solid counts by the non-zero winding rule, so self-overlaps are fine.
    """
    lo = np.round(np.min([s.vertices.min(axis=0) for s in solids], axis=0), 4)
    hi = np.round(np.max([s.vertices.max(axis=0) for s in solids], axis=0), 4)
    # Offset the lattice by a fraction of a voxel so grid columns never pass exactly through vertices.
    origin = lo - (pad + 0.371) * voxel
    shape = tuple(int(n) for n in np.ceil((hi - origin) / voxel) + pad + 1)
    # Difference array along z: +1 where a solid's inside interval starts, −1 where it ends.
    steps = np.zeros((shape[0], shape[1], shape[2] + 1), dtype=np.int16)
    flat = steps.reshape(-1)
    for solid in solids:
        # Round to 0.1 µm first: last-bit differences between machines' float maths then almost
        # never reach the grid, so the same seed gives the same voxels everywhere.
        vertices = np.round(solid.vertices, 7)
        starts, ends = _inside_intervals(vertices[solid.faces], origin, voxel, shape)
        np.add.at(flat, starts, 1)
        np.add.at(flat, ends, -1)
    return origin, np.cumsum(steps, axis=2, dtype=np.int16)[:, :, :-1] > 0


def _inside_intervals(triangles: np.ndarray, origin: np.ndarray, voxel: float, shape: tuple[int, int, int]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Where one closed mesh has a non-zero winding number, column by column.

    triangles: (M, 3, 3) world coordinates. One +z ray per (i, j) column; a crossing of
    a downward-facing triangle enters (+1), an upward-facing one leaves (−1).
    Returns flat indices into a (X, Y, Z + 1) array of the first voxel inside and the
    first voxel past each inside interval.
    """
    t = (triangles - origin) / voxel
    x, y, z = t[..., 0], t[..., 1], t[..., 2]
    area = (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (y[:, 1] - y[:, 0]) * (x[:, 2] - x[:, 0])
    i0 = np.ceil(x.min(axis=1)).astype(np.int64)
    i1 = np.floor(x.max(axis=1)).astype(np.int64)
    j0 = np.ceil(y.min(axis=1)).astype(np.int64)
    j1 = np.floor(y.max(axis=1)).astype(np.int64)
    width = np.maximum(i1 - i0 + 1, 0)
    counts = width * np.maximum(j1 - j0 + 1, 0) * (np.abs(area) > 1e-12)
    tri = np.repeat(np.arange(len(t)), counts)
    local = np.arange(len(tri)) - np.repeat(np.cumsum(counts) - counts, counts)
    px = i0[tri] + local % width[tri]
    py = j0[tri] + local // width[tri]
    xa, ya, xb, yb, xc, yc = x[tri, 0], y[tri, 0], x[tri, 1], y[tri, 1], x[tri, 2], y[tri, 2]
    a = area[tri]
    l0 = ((xb - px) * (yc - py) - (yb - py) * (xc - px)) / a
    l1 = ((xc - px) * (ya - py) - (yc - py) * (xa - px)) / a
    l2 = 1.0 - l0 - l1
    hit = (l0 >= 0) & (l1 >= 0) & (l2 >= 0)
    tri, px, py = tri[hit], px[hit], py[hit]
    zc = l0[hit] * z[tri, 0] + l1[hit] * z[tri, 1] + l2[hit] * z[tri, 2]
    k = np.clip(np.ceil(zc).astype(np.int64), 0, shape[2])
    sign = np.where(area[tri] > 0, -1, 1).astype(np.int64)  # counter-clockwise from above = normal up = leaving
    column = px * shape[1] + py
    order = np.lexsort((zc, column))
    column, k, sign = column[order], k[order], sign[order]
    winding = np.cumsum(sign)
    first = np.ones(len(column), dtype=bool)
    first[1:] = column[1:] != column[:-1]
    column_start = np.maximum.accumulate(np.where(first, np.arange(len(column)), 0))
    winding = winding - (winding - sign)[column_start]  # restart the count in every column
    last = np.ones(len(column), dtype=bool)
    last[:-1] = column[1:] != column[:-1]
    inside = winding != 0
    end = np.where(last, shape[2], np.roll(k, -1))  # an unclosed column stays inside to the top
    base = column * (shape[2] + 1)
    return (base + k)[inside], (base + end)[inside]


def smooth_occupancy(inside: np.ndarray, passes: int = 2) -> np.ndarray:
    """(X, Y, Z) bool → float32 blurred by ``passes`` separable [1, 2, 1]/4 filters (σ ≈ 0.7·√passes voxels).

    Computed with integer sums (exact); voxels outside the array count as outside.
    """
    field = inside.astype(np.uint16)
    for axis in range(3):
        for _ in range(passes):
            padded = np.pad(field, [(1, 1) if a == axis else (0, 0) for a in range(3)])
            length = field.shape[axis]
            left, mid, right = ([slice(None)] * 3 for _ in range(3))
            left[axis], mid[axis], right[axis] = slice(0, length), slice(1, length + 1), slice(2, length + 2)
            field = padded[tuple(left)] + padded[tuple(right)]
            field += padded[tuple(mid)] << 1
    return field.astype(np.float32) * np.float32(0.25 ** (3 * passes))


def _smooth_valid(windows: np.ndarray, passes: int) -> np.ndarray:
    """(n, S, S, S) bool → (n, S − 2·passes, …) float32: ``passes`` [1, 2, 1]/4 filters per axis, valid part only."""
    field = windows.astype(np.uint16)
    for axis in (1, 2, 3):
        for _ in range(passes):
            length = field.shape[axis]
            low, mid, high = ([slice(None)] * 4 for _ in range(3))
            low[axis], mid[axis], high[axis] = slice(0, length - 2), slice(1, length - 1), slice(2, length)
            field = field[tuple(low)] + field[tuple(high)] + (field[tuple(mid)] << 1)
    return field.astype(np.float32) * np.float32(0.25 ** (3 * passes))


def sparse_marching_cubes(inside: np.ndarray, level: float, passes: int = 2, block: int = 16
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Mesh the ``level`` set of ``smooth_occupancy(inside)``, block by block.

    PyMCubes scans every cell and a dense 4 mm grid is large, so only the blocks of
    ``block``³ cells whose smoothing window holds both inside and outside voxels are
    smoothed (all at once) and meshed; the seam vertices of neighbouring blocks are
    merged. Returns vertices (N, 3) in voxel units of ``inside`` and faces (M, 3) int64.
    """
    import mcubes

    r = passes  # the smoothing reaches r voxels; field sample g sits at inside[g - r]
    counts = -(-(np.array(inside.shape) + 2 * r) // block)
    size = block + 1 + 2 * r  # inside voxels feeding one block's (block + 1)³ field samples
    padded = np.zeros(tuple(counts * block + 1 + 2 * r), dtype=bool)  # padded[q] = inside[q - 2r]
    padded[2 * r:2 * r + inside.shape[0], 2 * r:2 * r + inside.shape[1], 2 * r:2 * r + inside.shape[2]] = inside
    core = padded[:counts[0] * block, :counts[1] * block, :counts[2] * block]
    cells = core.reshape(counts[0], block, counts[1], block, counts[2], block)
    # A block's window reaches 1 + 2r ≤ block voxels into its +x/+y/+z neighbours: look at 2×2×2 blocks.
    any_inside = np.pad(cells.any(axis=5).any(axis=3).any(axis=1), (0, 1))  # innermost axis first: fast
    all_inside = np.pad(cells.all(axis=5).all(axis=3).all(axis=1), (0, 1))
    any_near = np.zeros(tuple(counts), dtype=bool)
    all_near = np.ones(tuple(counts), dtype=bool)
    for dx in (0, 1):
        for dy in (0, 1):
            for dz in (0, 1):
                window = (slice(dx, dx + counts[0]), slice(dy, dy + counts[1]), slice(dz, dz + counts[2]))
                any_near |= any_inside[window]
                all_near &= all_inside[window]
    active = np.argwhere(any_near & ~all_near)
    starts = active * block  # (n, 3) first field sample of each active block
    # Overlapping block windows as a strided view, gathered with one index per block.
    strides = np.array(padded.strides)
    tiles = np.lib.stride_tricks.as_strided(padded, shape=tuple(counts) + (size,) * 3,
                                            strides=tuple(strides * block) + tuple(strides), writeable=False)
    windows = tiles[active[:, 0], active[:, 1], active[:, 2]]
    fields = _smooth_valid(windows, passes)  # (n, block + 1, block + 1, block + 1)
    threshold = np.float32(level)
    vertex_parts, face_parts, offset = [], [], 0
    for start, field in zip(starts, fields):
        vertices, faces = mcubes.marching_cubes(field, threshold)
        if len(faces) == 0:
            continue
        vertex_parts.append(vertices + (start - r))
        face_parts.append(faces.astype(np.int64) + offset)
        offset += len(vertices)
    if not vertex_parts:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    vertices = np.concatenate(vertex_parts)
    faces = np.concatenate(face_parts)
    # Seam vertices agree to rounding error only (PyMCubes interpolates per cell): merge on a fine lattice.
    keys = np.rint(vertices * 1024.0).astype(np.int64)
    keys = (keys[:, 0] * (1 << 21) + keys[:, 1]) * (1 << 21) + keys[:, 2]
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    unique = vertices[first]
    faces = inverse.reshape(-1)[faces]
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])]
    return unique, faces

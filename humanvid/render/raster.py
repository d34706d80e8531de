"""A closed triangle mesh rasterised through a pinhole camera: the nearest surface at each pixel centre.

The same answer as ray casting (humanvid.render.raycast.cast: face, barycentrics, depth per pixel) without
building a ray-tracing structure, which costs more than the render itself when every frame's mesh is new
(a 80k-face person at 812×720: 57 ms for embree's structure alone). Faces turned away from the camera are
culled, so the mesh must be closed with faces counter-clockwise seen from outside (humanvid's meshes are).
Each face's pixel centres are found in its bounding box (faces grouped by box size, all in numpy), the
nearest candidate per pixel wins; barycentrics are perspective-correct.
"""

from __future__ import annotations

import numpy as np

from humanvid.camera import Camera
from humanvid.render.raycast import RayHits


def rasterize(vertices: np.ndarray, faces: np.ndarray, camera: Camera) -> RayHits:
    """First surface per pixel of the closed mesh (V, 3) / (F, 3) in world coordinates, as RayHits."""
    height, width = camera.height, camera.width
    face_map = np.full((height, width), -1, dtype=np.int64)
    barycentric = np.zeros((height, width, 3))
    depth_map = np.zeros((height, width), dtype=np.float32)
    faces = np.asarray(faces, np.int64)
    pixels, depth = camera.project(np.asarray(vertices, np.float64))
    corners, corner_depth = pixels[faces], depth[faces]  # (F, 3, 2), (F, 3)
    edge1, edge2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    area = edge1[:, 0] * edge2[:, 1] - edge1[:, 1] * edge2[:, 0]  # image rows run down: front faces < 0
    keep = (area < -1e-12) & (corner_depth > 0).all(axis=1)
    keep &= (corners[..., 0].max(axis=1) >= 0) & (corners[..., 0].min(axis=1) <= width - 1)
    keep &= (corners[..., 1].max(axis=1) >= 0) & (corners[..., 1].min(axis=1) <= height - 1)
    chosen = np.nonzero(keep)[0]
    corner_depth = corner_depth[chosen]
    rows, cols, local, weights = covered_pixels(corners[chosen], height, width)
    if not len(rows):
        return RayHits(face_map, barycentric, depth_map)
    inverse = weights / corner_depth[local]  # perspective: barycentrics of 1/z are affine on the screen
    point_depth = 1.0 / inverse.sum(axis=1)
    pixel = rows * width + cols
    order = np.argsort(pixel + point_depth / (1.001 * point_depth.max()))  # by pixel, then nearest first
    pixel = pixel[order]
    first = order[np.concatenate([[True], pixel[1:] != pixel[:-1]])]
    rows, cols = rows[first], cols[first]
    face_map[rows, cols] = chosen[local[first]]
    barycentric[rows, cols] = inverse[first] * point_depth[first, None]
    depth_map[rows, cols] = point_depth[first]
    return RayHits(face_map, barycentric, depth_map)


def covered_pixels(triangles: np.ndarray, height: int, width: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (pixel centre, triangle) pair of an height × width image with the centre inside the triangle
    (edges included), for (F, 3, 2) triangles in pixel coordinates (x, y): rows, columns and triangle
    indices (N,) and the centres' barycentric weights (N, 3). Triangles are grouped by the size of their
    box of pixel centres, each group tested at once."""
    c0 = np.ceil(triangles[..., 0].min(axis=1)).clip(0, width - 1).astype(np.int64)
    r0 = np.ceil(triangles[..., 1].min(axis=1)).clip(0, height - 1).astype(np.int64)
    c1 = np.floor(triangles[..., 0].max(axis=1)).clip(0, width - 1).astype(np.int64)
    r1 = np.floor(triangles[..., 1].max(axis=1)).clip(0, height - 1).astype(np.int64)
    spans = np.maximum(c1 - c0 + 1, r1 - r0 + 1).clip(min=0)
    found, low = [], 0
    while low < spans.max(initial=0):
        high = max(2 * low, 2)
        group = np.nonzero((spans > low) & (spans <= high))[0]
        low = high
        if not len(group):
            continue
        dr, dc = np.divmod(np.arange(high * high), high)
        rows, cols = r0[group, None] + dr[None], c0[group, None] + dc[None]
        w0, w1, w2 = screen_barycentric(triangles[group], cols.astype(np.float64), rows.astype(np.float64))
        inside = np.minimum(np.minimum(w0, w1), w2) >= -1e-9
        inside &= (rows <= r1[group, None]) & (cols <= c1[group, None])
        which, slot = np.nonzero(inside)
        found.append((rows[which, slot], cols[which, slot], group[which],
                      np.stack([w0[which, slot], w1[which, slot], w2[which, slot]], axis=1)))
    if not found:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, 3))
    rows, cols, index, weights = (np.concatenate(parts) for parts in zip(*found))
    return rows, cols, index, weights


def screen_barycentric(triangles: np.ndarray, x: np.ndarray, y: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three (G, K) barycentric weights of the points (x, y), each (G, K), in the (G, 3, 2) triangles
    (degenerate triangles give non-finite weights)."""
    a, b, c = triangles[:, None, 0], triangles[:, None, 1], triangles[:, None, 2]
    v0, v1 = b - a, c - a
    px, py = x - a[..., 0], y - a[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 1.0 / (v0[..., 0] * v1[..., 1] - v0[..., 1] * v1[..., 0])
        w1 = (px * v1[..., 1] - py * v1[..., 0]) * scale
        w2 = (v0[..., 0] * py - v0[..., 1] * px) * scale
    return 1.0 - w1 - w2, w1, w2

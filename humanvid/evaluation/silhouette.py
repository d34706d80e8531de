"""Silhouettes of meshes in the crop, and their agreement with the person mask (IoU)."""

from __future__ import annotations

import cv2
import numpy as np

from humanvid.projection import project


def rasterize_silhouette(vertices: np.ndarray, faces: np.ndarray, camera: np.ndarray, size: int,
                         supersample: int = 1) -> np.ndarray:
    """(size, size) bool silhouette of a mesh in front of the camera: the pixels whose centre
    some triangle covers (at `supersample`² points per pixel, kept where half are covered).

    vertices: (V, 3) camera frame [m]; faces: (F, 3); camera: (3, 3) pixel-from-image-plane matrix
    (humanvid.projection)."""
    pixels = (project(np.asarray(vertices, np.float64), camera) + 0.5) * supersample - 0.5  # centres at integers
    triangles = pixels[faces]  # (F, 3, 2)
    area = _edge(triangles[:, 0], triangles[:, 1], triangles[:, 2])
    # Either winding covers a closed mesh's silhouette: take the larger half (front or back faces).
    triangles = triangles[area > 0] if (area > 0).sum() >= (area < 0).sum() else triangles[area < 0][:, ::-1]
    canvas = np.zeros((size * supersample, size * supersample), np.uint8)
    first = np.ceil(triangles.min(axis=1))  # (F, 2) lowest pixel centre a triangle can cover
    centres = np.floor(triangles.max(axis=1)) - first + 1  # (F, 2) pixel centres its box spans per axis
    covering = (centres > 0).all(axis=1)  # most triangles of a fine mesh fall between pixel centres
    triangles, first, centres = triangles[covering], first[covering], centres[covering]
    small = (centres <= SMALL_TRIANGLE).all(axis=1)
    _fill(canvas, triangles[small], first[small], _BLOCK[None])
    limit = np.array(canvas.shape[::-1]) - 1
    for triangle, start, span in zip(triangles[~small], first[~small], centres[~small]):
        low, high = np.maximum(start, 0), np.minimum(start + span - 1, limit)  # only centres on the canvas
        if (high >= low).all():
            block = np.stack(np.meshgrid(*(np.arange(n) for n in high - low + 1)), -1).reshape(1, -1, 2)
            _fill(canvas, triangle[None], low[None], block)
    if supersample > 1:
        canvas = cv2.resize(canvas.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA) >= 0.5
    return canvas.astype(bool)


SMALL_TRIANGLE = 2  # triangles whose box spans at most 2×2 pixel centres are filled in one vectorised pass
_BLOCK = np.stack(np.meshgrid(np.arange(SMALL_TRIANGLE), np.arange(SMALL_TRIANGLE)), -1).reshape(-1, 2)  # (4, 2)


def _edge(start: np.ndarray, end: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Twice the signed area of (start, end, point), (…, 2) each: > 0 where point is left of the edge."""
    return ((end[..., 0] - start[..., 0]) * (point[..., 1] - start[..., 1])
            - (end[..., 1] - start[..., 1]) * (point[..., 0] - start[..., 0]))


def _fill(canvas: np.ndarray, triangles: np.ndarray, first: np.ndarray, block: np.ndarray) -> None:
    """Mark the pixel centres inside (F, 3, 2) positively wound triangles (_edge > 0), testing for
    each the centres `first` (F, 2) + `block` (1, K, 2). Pixels on an edge count as inside."""
    centres = first[:, None, :] + block  # (F, K, 2)
    a, b, c = (triangles[:, None, i] for i in range(3))
    inside = (_edge(a, b, centres) >= 0) & (_edge(b, c, centres) >= 0) & (_edge(c, a, centres) >= 0)
    height, width = canvas.shape
    inside &= (centres[..., 0] >= 0) & (centres[..., 0] < width) & (centres[..., 1] >= 0) & (centres[..., 1] < height)
    hits = centres[inside].astype(np.intp)
    canvas[hits[:, 1], hits[:, 0]] = 1


def mask_iou(first: np.ndarray, second: np.ndarray) -> float:
    first, second = np.asarray(first, bool), np.asarray(second, bool)
    union = np.logical_or(first, second).sum()
    return float(np.logical_and(first, second).sum() / union) if union else 1.0

"""Silhouettes of meshes in the crop, and their agreement with the person mask (IoU)."""

from __future__ import annotations

import cv2
import numpy as np


def crop_intrinsics(intrinsics: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """(3, 3) crop pixel ← image plane (x/−z, −y/−z) matrix, from fx, fy, cx, cy and the 2×3 crop affine."""
    fx, fy, cx, cy = intrinsics
    full = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    return np.vstack([affine, [0.0, 0.0, 1.0]]) @ full


def project_vertices(vertices: np.ndarray, camera: np.ndarray) -> np.ndarray:
    """(V, 2) pixel positions of (V, 3) camera-frame (OpenGL) vertices."""
    depth = np.maximum(-vertices[:, 2], 1e-6)
    plane = np.stack([vertices[:, 0] / depth, -vertices[:, 1] / depth, np.ones_like(depth)], axis=1)
    return (plane @ camera.T)[:, :2]


def rasterize_silhouette(vertices: np.ndarray, faces: np.ndarray, camera: np.ndarray, size: int,
                         supersample: int = 1) -> np.ndarray:
    """(size, size) bool silhouette of a mesh in front of the camera (every triangle filled)."""
    scale = 4 * supersample  # cv2 fills with 2 fractional bits per supersampled pixel
    pixels = project_vertices(vertices, camera)
    triangles = np.round((pixels[faces] + 0.5) * scale - 0.5 * 4).astype(np.int32)  # pixel centres at integers
    edges1, edges2 = triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]
    area = edges1[:, 0].astype(np.int64) * edges2[:, 1] - edges1[:, 1].astype(np.int64) * edges2[:, 0]
    canvas = np.zeros((size * supersample, size * supersample), np.uint8)
    # Triangles one by one: fillPoly with many polygons uses the even-odd rule and would punch
    # holes where parts overlap. Either winding covers the silhouette, so take the larger half.
    facing = area > 0 if (area > 0).sum() >= (area < 0).sum() else area < 0
    for triangle in triangles[facing]:
        cv2.fillConvexPoly(canvas, triangle, 1, lineType=cv2.LINE_8, shift=2)
    if supersample > 1:
        canvas = cv2.resize(canvas.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA) >= 0.5
    return canvas.astype(bool)


def mask_iou(first: np.ndarray, second: np.ndarray) -> float:
    first, second = np.asarray(first, bool), np.asarray(second, bool)
    union = np.logical_or(first, second).sum()
    return float(np.logical_and(first, second).sum() / union) if union else 1.0

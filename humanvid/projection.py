"""The pinhole projection every stage shares: camera-frame points → pixels, in numpy or torch.

Points are in the OpenGL camera frame of DESIGN.md (x right, y up, the camera at the
origin looking down −z, metres); pixels have their centres at integer coordinates,
origin top-left. A camera is a (3, 3) pixel-from-image-plane matrix M whose last row is
(0, 0, 1): pixel = M @ (x / d, −y / d, 1) with d = −z, the depth. The full frame's
matrix is `intrinsic_matrix(fx, fy, cx, cy)`; a crop's is `crop_camera(intrinsics, affine)`.
Depths below MIN_DEPTH are clamped, so no point ever divides by zero.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

from humanvid.constants import MIN_DEPTH

Array = TypeVar("Array", np.ndarray, torch.Tensor)


def intrinsic_matrix(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """(3, 3) the full frame's pixel-from-image-plane matrix."""
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def crop_camera(intrinsics: Array, affine: Array) -> Array:
    """(..., 3, 3) the camera of a crop: the full frame's, followed by the crop's affine.

    intrinsics: (..., 4) fx, fy, cx, cy of the full frame [px]; affine: (..., 2, 3) full-frame px → crop px.
    """
    if isinstance(intrinsics, torch.Tensor):
        fx, fy, cx, cy = intrinsics.unbind(-1)
        zeros, ones = torch.zeros_like(fx), torch.ones_like(fx)
        full = torch.stack([torch.stack([fx, zeros, cx], -1), torch.stack([zeros, fy, cy], -1),
                            torch.stack([zeros, zeros, ones], -1)], -2)
        bottom = torch.tensor([0.0, 0.0, 1.0], dtype=affine.dtype, device=affine.device).expand(*affine.shape[:-2], 1, 3)
        return torch.cat([affine, bottom], dim=-2) @ full
    intrinsics, affine = np.asarray(intrinsics, np.float64), np.asarray(affine, np.float64)
    fx, fy, cx, cy = np.moveaxis(intrinsics, -1, 0)
    zeros, ones = np.zeros_like(fx), np.ones_like(fx)
    full = np.stack([np.stack([fx, zeros, cx], -1), np.stack([zeros, fy, cy], -1), np.stack([zeros, zeros, ones], -1)], -2)
    bottom = np.broadcast_to(np.array([0.0, 0.0, 1.0]), (*affine.shape[:-2], 1, 3))
    return np.concatenate([affine, bottom], axis=-2) @ full


def project(points: Array, camera: Array) -> Array:
    """(..., N, 2) pixels of (..., N, 3) camera-frame points through (..., 3, 3) cameras.

    The cameras' leading dimensions broadcast against the points' (one camera for all, or one per batch row).
    """
    matrix = camera[..., None, :, :]  # (..., 1, 3, 3): one camera for the N points
    if isinstance(points, torch.Tensor):
        depth = (-points[..., 2]).clamp_min(MIN_DEPTH)
        stack = torch.stack
    else:
        depth = np.maximum(-points[..., 2], MIN_DEPTH)
        stack = np.stack
    x, y = points[..., 0], points[..., 1]
    u = matrix[..., 0, 2] + (matrix[..., 0, 0] * x - matrix[..., 0, 1] * y) / depth
    v = matrix[..., 1, 2] + (matrix[..., 1, 0] * x - matrix[..., 1, 1] * y) / depth
    return stack([u, v], -1)


def resized_affine(affine: np.ndarray, size: int, crop_size: int) -> np.ndarray:
    """(..., 2, 3) the full-frame → crop affine of a crop resampled from `crop_size` to `size` pixels a side
    (pixel centres at integers, as cv2.resize maps them)."""
    scale = size / crop_size
    scaled = np.asarray(affine, np.float64) * scale
    scaled[..., :, 2] += 0.5 * scale - 0.5
    return scaled


def to_grid_coordinates(pixels: Array, size: int) -> Array:
    """Pixels of a size×size image (centres at integers) → grid_sample coordinates in [−1, 1]
    (align_corners=True)."""
    return pixels * (2.0 / (size - 1)) - 1.0


def within_frame(points: np.ndarray, intrinsics: np.ndarray, width: int, height: int) -> np.ndarray:
    """(N, 3) camera-frame points [m] with those that project outside the full frame moved, at their depth,
    onto the frustum's side planes (the planes through the camera and the frame's edges, at pixels −0.5 and
    width − 0.5, height − 0.5): nothing outside what the frame shows. Points inside are unchanged.

    intrinsics: (4,) fx, fy, cx, cy of the full frame [px]; width, height: the frame's size [px]."""
    fx, fy, cx, cy = (float(v) for v in intrinsics)
    points = np.array(points, np.float64)
    depth = np.maximum(-points[:, 2], MIN_DEPTH)
    u = cx + fx * points[:, 0] / depth
    v = cy - fy * points[:, 1] / depth
    u_in, v_in = np.clip(u, -0.5, width - 0.5), np.clip(v, -0.5, height - 0.5)
    moved = (u_in != u) | (v_in != v)
    points[moved, 0] = (u_in[moved] - cx) * depth[moved] / fx
    points[moved, 1] = -(v_in[moved] - cy) * depth[moved] / fy
    return points

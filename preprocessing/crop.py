"""Square person crops: where the person is, and the affine map from frame to crop.

Convention: pixel centres at integer coordinates. A crop of side `s` full-frame
pixels centred at (cx, cy) maps to a CROP_SIZE² image by
    u = k (x − cx) + (CROP_SIZE − 1) / 2,   k = CROP_SIZE / s
stored as the 2×3 matrix A with [u, v]ᵀ = A [x, y, 1]ᵀ.
"""

from __future__ import annotations

import cv2
import numpy as np

from humanvid.constants import CROP_SIZE
from preprocessing.pose import Detection


def person_extent(detection: Detection, mask_threshold: int = 128) -> np.ndarray:
    """(4,) box x0, y0, x1, y1 [full-frame px] around the followed person.

    The landmark box misses the top of the head and loose clothes; the mask
    adds them, but only near the landmarks, so other people or objects the
    segmenter also found do not stretch the box.
    """
    points = detection.landmarks[:, :2]
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    pad = 0.6 * detection.torso_size
    window = np.array([x0 - pad, y0 - pad, x1 + pad, y1 + pad]) * detection.mask_scale
    height, width = detection.mask.shape
    wx0, wy0 = int(max(window[0], 0)), int(max(window[1], 0))
    wx1, wy1 = int(min(np.ceil(window[2]), width)), int(min(np.ceil(window[3]), height))
    region = detection.mask[wy0:wy1, wx0:wx1] >= mask_threshold if wx1 > wx0 and wy1 > wy0 else None
    if region is None or not region.any():
        # No usable mask: leave room for the head above the eyes.
        return np.array([x0, y0 - 0.4 * detection.torso_size, x1, y1])
    rows = np.flatnonzero(region.any(axis=1))
    cols = np.flatnonzero(region.any(axis=0))
    mask_box = np.array([wx0 + cols[0], wy0 + rows[0], wx0 + cols[-1], wy0 + rows[-1]]) / detection.mask_scale
    return np.array([min(x0, mask_box[0]), min(y0, mask_box[1]), max(x1, mask_box[2]), max(y1, mask_box[3])])


def crop_affine(center: np.ndarray, side: float, size: int = CROP_SIZE) -> np.ndarray:
    """(2, 3) affine from full-frame pixels to crop pixels of a size² crop."""
    k = size / side
    half = (size - 1) / 2.0
    return np.array([[k, 0.0, half - k * center[0]], [0.0, k, half - k * center[1]]])


def scaled_affine(affine: np.ndarray, scale: float) -> np.ndarray:
    """The affine for an image that is `scale` times the size of the one `affine` maps from."""
    scaled = affine.copy()
    scaled[:, :2] /= scale
    # pixel centres: x_scaled = scale * (x + 0.5) - 0.5  =>  x = (x_scaled + 0.5) / scale - 0.5
    scaled[:, 2] += affine[:, :2].sum(axis=1) * (0.5 / scale - 0.5)
    return scaled


def warp(image: np.ndarray, affine: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Cut the crop out of `image` (H×W or H×W×C uint8); outside the frame is black.

    When the crop shrinks the image more than twofold, the image is first
    downscaled with area averaging so the crop does not alias.
    """
    k = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))
    if k < 0.5:
        scale = 2.0 * k
        height, width = image.shape[:2]
        small = cv2.resize(image, (max(round(width * scale), 1), max(round(height * scale), 1)),
                           interpolation=cv2.INTER_AREA)
        affine = scaled_affine(affine, small.shape[1] / width)
        image = small
    return cv2.warpAffine(image, affine, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def to_crop(points: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Map (..., N, 2) full-frame pixel points into crop pixels through (..., 2, 3) affines (one per frame)."""
    return np.einsum("...ij,...nj->...ni", affine[..., :2], points) + affine[..., None, :, 2]


def from_crop(points: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Map (..., N, 2) crop pixel points back into full-frame pixels: the inverse of to_crop."""
    return np.einsum("...ij,...nj->...ni", np.linalg.inv(affine[..., :2]), points - affine[..., None, :, 2])

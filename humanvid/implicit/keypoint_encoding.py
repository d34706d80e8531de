"""Relative spatial encoding of 3D keypoints (KeypointNeRF), as a query-point feature.

For each keypoint k of the fitted body and each query point x, both in the
camera frame: the relative depth d = (−x_z) − (−k_z), sinusoidally encoded at
a few frequencies, and weighted by a Gaussian of the 3D distance |x − k|, so a
keypoint speaks only about its neighbourhood. Relative, not absolute: the
feature does not change when the person stands elsewhere, and a small fitting
error shifts it only a little.
"""

from __future__ import annotations

import math

import torch


def keypoint_encoding(points: torch.Tensor, keypoints: torch.Tensor, frequencies: int = 4,
                      sigma: float = 0.15, scale: float = 1.0) -> torch.Tensor:
    """(B, N, K · 2F) encoding of (B, N, 3) query points relative to (B, K, 3) keypoints.

    Keypoints with NaN coordinates (not expressed by the body model) give zeros.
    Relative depths are divided by `scale` [m] before encoding at frequencies
    2^0 … 2^(F−1) · π.
    """
    valid = torch.isfinite(keypoints).all(dim=-1)  # (B, K)
    keypoints = torch.where(valid[..., None], keypoints, torch.zeros_like(keypoints))
    relative_depth = keypoints[:, None, :, 2] - points[:, :, None, 2]  # (B, N, K): −x_z − (−k_z)
    distance_sq = ((points[:, :, None, :] - keypoints[:, None, :, :]) ** 2).sum(-1)
    weight = torch.exp(-distance_sq / (2.0 * sigma**2)) * valid[:, None, :]
    bands = (2.0 ** torch.arange(frequencies, dtype=points.dtype, device=points.device)) * math.pi
    angles = (relative_depth / scale)[..., None] * bands  # (B, N, K, F)
    encoded = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1) * weight[..., None]
    return encoded.flatten(2)

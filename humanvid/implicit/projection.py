"""Camera-frame points → pixels of the 512×512 crop the network sees.

Points are in the OpenGL camera frame of DESIGN.md (x right, y up, looking
down −z, metres). The crop camera is the full-frame pinhole followed by the
crop's 2×3 affine.
"""

from __future__ import annotations

import torch


def crop_camera(intrinsics: torch.Tensor, affine: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3) pixel-from-image-plane matrix of the crop.

    intrinsics: (B, 4) fx, fy, cx, cy of the full frame [px]; affine: (B, 2, 3) full frame → crop px.
    The image plane is (x / −z, −y / −z): right and down, as pixels go.
    """
    fx, fy, cx, cy = intrinsics.unbind(-1)
    zeros, ones = torch.zeros_like(fx), torch.ones_like(fx)
    full = torch.stack([torch.stack([fx, zeros, cx], -1), torch.stack([zeros, fy, cy], -1),
                        torch.stack([zeros, zeros, ones], -1)], -2)
    bottom = torch.tensor([0.0, 0.0, 1.0], dtype=affine.dtype, device=affine.device).expand(len(affine), 1, 3)
    return torch.cat([affine, bottom], dim=1) @ full


def project(points: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """(B, N, 2) crop pixel coordinates of (B, N, 3) camera-frame points; camera: (B, 3, 3) with last row
    (0, 0, 1), as crop_camera makes it (an affine map of the image plane)."""
    inverse_depth = (-points[..., 2]).clamp(min=1e-4).reciprocal()[..., None]  # (B, N, 1)
    plane = points[..., :2] * inverse_depth  # (x / −z, y / −z); the image's y goes down: flipped in the matrix
    linear = camera[:, :2, :2] * torch.tensor([1.0, -1.0], dtype=camera.dtype, device=camera.device)
    return torch.baddbmm(camera[:, None, :2, 2], plane, linear.transpose(1, 2))


def to_grid_coordinates(pixels: torch.Tensor, size: int) -> torch.Tensor:
    """Crop pixels (centres at integers) → grid_sample coordinates in [−1, 1] (align_corners=True)."""
    return pixels * (2.0 / (size - 1)) - 1.0

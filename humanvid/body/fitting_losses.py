"""Loss terms of body fitting (pure functions of tensors).

Image residuals are measured in "crop pixels": pixels of the 512-pixel square crop the
network sees, so that one setting suits near and far people alike.
"""

from __future__ import annotations

import torch

from humanvid.constants import CROP_SIZE
from humanvid.landmarks import MEDIAPIPE_INDEX

# Segments whose 3D direction MediaPipe's world landmarks tell (limbs, hip and shoulder lines, trunk).
_SEGMENT_NAMES = [
    (f"{side}_{a}", f"{side}_{b}")
    for side in ("left", "right")
    for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle"), ("ankle", "foot_index"))
] + [("right_hip", "left_hip"), ("right_shoulder", "left_shoulder")]
SEGMENTS = torch.tensor([[MEDIAPIPE_INDEX[a], MEDIAPIPE_INDEX[b]] for a, b in _SEGMENT_NAMES])
# Keypoints whose motion the temporal term smooths (the body, not the face or fingers).
SMOOTHED_KEYPOINTS = torch.tensor(
    [MEDIAPIPE_INDEX[name] for name in MEDIAPIPE_INDEX if not name.endswith(("eye_inner", "eye_outer", "pinky", "index", "thumb"))]
)


def geman_mcclure(squared_residuals: torch.Tensor, sigma: float) -> torch.Tensor:
    """Robust rho(r) = r^2 / (r^2 + sigma^2), in [0, 1): quadratic near 0, flat for outliers."""
    return squared_residuals / (squared_residuals + sigma**2)


def crop_sides_from_landmarks(pixels: torch.Tensor, visibility: torch.Tensor, minimum: float = 32.0) -> torch.Tensor:
    """(T, 33, 2), (T, 33) -> (T,) side of a square crop holding the person at ~80 % of its
    height, estimated from the extent of the visible landmarks (which stop at the eyes)."""
    visible = (visibility > 0.3) & torch.isfinite(pixels).all(dim=-1)
    big = torch.finfo(pixels.dtype).max
    low = torch.where(visible[..., None], pixels, torch.full_like(pixels, big)).amin(dim=1)
    high = torch.where(visible[..., None], pixels, torch.full_like(pixels, -big)).amax(dim=1)
    extent = (high - low).amax(dim=-1)
    extent = torch.where(visible.sum(dim=1) >= 2, extent, torch.full_like(extent, minimum))
    return (extent * 1.1 / 0.8).clamp_min(minimum)


def reprojection_loss(
    projected: torch.Tensor, pixels: torch.Tensor, weights: torch.Tensor, crop_sides: torch.Tensor, sigma: float
) -> torch.Tensor:
    """Robust weighted keypoint reprojection, (T,) per frame.

    Args:
        projected, pixels: (T, K, 2) full-frame pixels (NaN observations need weight 0).
        weights: (T, K) visibility x keypoint weight.
        crop_sides: (T,) crop side in full-frame pixels (residuals are scaled to crop pixels).
        sigma: Geman-McClure scale in crop pixels.
    """
    scale = CROP_SIZE / crop_sides
    residual = (projected - torch.nan_to_num(pixels)) * scale[:, None, None]
    return (weights * geman_mcclure(residual.square().sum(dim=-1), sigma)).sum(dim=-1)


def reprojection_error_px(projected: torch.Tensor, pixels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(T,) weighted mean distance in the given pixels (NaN where a frame has no weight)."""
    distance = (projected - torch.nan_to_num(pixels)).norm(dim=-1)
    total = weights.sum(dim=-1)
    return torch.where(total > 0, (weights * distance).sum(dim=-1) / total.clamp_min(1e-12), torch.full_like(total, float("nan")))


def direction_loss(keypoints: torch.Tensor, world_landmarks: torch.Tensor, visibility: torch.Tensor) -> torch.Tensor:
    """(T,) sum over segments of w (1 - cos) between the body's segment directions and those
    of MediaPipe's world landmarks (output axes); w = the lower visibility of the two ends."""
    segments = SEGMENTS.to(keypoints.device)
    body = keypoints[:, segments[:, 1]] - keypoints[:, segments[:, 0]]
    seen = world_landmarks[:, segments[:, 1]] - world_landmarks[:, segments[:, 0]]
    valid = torch.isfinite(seen).all(dim=-1)
    seen = torch.nan_to_num(seen)
    cosine = torch.nn.functional.cosine_similarity(body, seen, dim=-1, eps=1e-8)
    weight = torch.minimum(visibility[:, segments[:, 0]], visibility[:, segments[:, 1]]) * valid
    return (torch.nan_to_num(weight) * (1.0 - cosine)).sum(dim=-1)


def acceleration_loss(keypoints: torch.Tensor) -> torch.Tensor:
    """(T, K, 3) -> scalar: sum over frames of the mean squared second difference of the
    smoothed keypoints (m^2 per frame^4); 0 for fewer than 3 frames."""
    if keypoints.shape[0] < 3:
        return keypoints.new_zeros(())
    points = keypoints[:, SMOOTHED_KEYPOINTS.to(keypoints.device)]
    acceleration = points[2:] - 2.0 * points[1:-1] + points[:-2]
    return acceleration.square().sum(dim=-1).mean(dim=-1).sum()

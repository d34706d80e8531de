"""Rotation and rigid-transform helpers shared by the body models (pure torch functions).

Axis-angle vectors are rotation vectors: direction = axis, norm = angle in radians,
right-hand rule. All functions broadcast over leading dimensions and are differentiable,
including at the zero rotation.
"""

from __future__ import annotations

import torch

_SMALL_ANGLE = 1e-4


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula.

    Args:
        axis_angle: (..., 3) rotation vectors.
    Returns:
        (..., 3, 3) rotation matrices.
    """
    angle_sq = (axis_angle * axis_angle).sum(-1, keepdim=True)[..., None]  # (..., 1, 1)
    small = angle_sq < _SMALL_ANGLE**2
    safe_sq = torch.where(small, torch.ones_like(angle_sq), angle_sq)
    angle = safe_sq.sqrt()
    # sin(t)/t and (1 - cos(t))/t^2, with Taylor expansions near zero.
    sin_term = torch.where(small, 1.0 - angle_sq / 6.0, torch.sin(angle) / angle)
    cos_term = torch.where(small, 0.5 - angle_sq / 24.0, (1.0 - torch.cos(angle)) / safe_sq)
    skew = skew_matrix(axis_angle)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    return eye + sin_term * skew + cos_term * (skew @ skew)


def skew_matrix(vector: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 3, 3) such that skew(v) @ w == cross(v, w)."""
    x, y, z = vector.unbind(-1)
    zero = torch.zeros_like(x)
    rows = (
        torch.stack([zero, -z, y], -1),
        torch.stack([z, zero, -x], -1),
        torch.stack([-y, x, zero], -1),
    )
    return torch.stack(rows, -2)


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`axis_angle_to_matrix`, angles in [0, pi].

    Goes through a unit quaternion, which is stable near 0 and near pi.

    Args:
        matrix: (..., 3, 3) rotation matrices.
    Returns:
        (..., 3) rotation vectors.
    """
    quaternion = matrix_to_quaternion(matrix)  # (..., 4) as (w, x, y, z), w >= 0
    w, xyz = quaternion[..., :1], quaternion[..., 1:]
    sin_half = xyz.norm(dim=-1, keepdim=True)
    half_angle = torch.atan2(sin_half, w)
    small = sin_half < 1e-6
    scale = torch.where(small, 2.0 / w.clamp_min(1e-12), 2.0 * half_angle / sin_half.clamp_min(1e-12))
    return xyz * scale


def unwrap_axis_angles(axis_angles: torch.Tensor) -> torch.Tensor:
    """Make a (T, ..., 3) sequence of rotation vectors continuous over T.

    A rotation by angle a about u is also the rotation by a - 2 pi about u; near 180 degrees
    :func:`matrix_to_axis_angle` jumps between the two (e.g. a person with their back to the
    camera), which averaging or optimising over time must not see. Each frame takes the
    representation nearer to the previous frame's.
    """
    out = axis_angles.clone()
    for t in range(1, out.shape[0]):
        current = out[t]
        angle = current.norm(dim=-1, keepdim=True)
        other = current - 2.0 * torch.pi * current / angle.clamp_min(1e-12)
        nearer = (other - out[t - 1]).norm(dim=-1, keepdim=True) < (current - out[t - 1]).norm(dim=-1, keepdim=True)
        out[t] = torch.where(nearer & (angle > 1e-6), other, current)
    return out


def principal_axis_angles(axis_angles: torch.Tensor) -> torch.Tensor:
    """(..., 3) the same rotations as rotation vectors of angle at most pi.

    An unwrapped sequence (unwrap_axis_angles) of a person turning a full circle reaches angles near
    2 pi, where the rotation vector's derivative is singular (rotations about axes across it cannot
    be reached by small steps): an optimiser must start from the principal vectors.
    """
    angle = axis_angles.norm(dim=-1, keepdim=True)
    principal = torch.remainder(angle + torch.pi, 2.0 * torch.pi) - torch.pi
    return torch.where(angle > 1e-9, axis_angles * principal / angle.clamp_min(1e-12), axis_angles)


def nearest_axis_angles(axis_angles: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """(..., 3) the representations of `axis_angles`' rotations (angle ± 2 pi k) nearest to `reference`."""
    angle = axis_angles.norm(dim=-1, keepdim=True)
    axis = axis_angles / angle.clamp_min(1e-12)
    turns = torch.round(((reference * axis).sum(dim=-1, keepdim=True) - angle) / (2.0 * torch.pi))
    return torch.where(angle > 1e-9, axis_angles + 2.0 * torch.pi * turns * axis, axis_angles)


def matrix_to_quaternion(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotation matrices -> (..., 4) unit quaternions (w, x, y, z) with w >= 0."""
    m = matrix
    trace = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    # Four candidate formulas; pick, per matrix, the one with the largest denominator.
    candidates = torch.stack(
        [
            torch.stack([1 + trace, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
            torch.stack([m[..., 2, 1] - m[..., 1, 2], 1 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2], m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
            torch.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], 1 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2], m[..., 1, 2] + m[..., 2, 1]], -1),
            torch.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2]], -1),
        ],
        -2,
    )  # (..., 4, 4): candidate i has component i equal to 1 + (diagonal combination) = 4 q_i^2
    diagonal = torch.stack(
        [1 + trace, 1 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2], 1 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2], 1 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2]],
        -1,
    )
    best = diagonal.argmax(-1)
    chosen = torch.gather(candidates, -2, best[..., None, None].expand(*best.shape, 1, 4))[..., 0, :]
    quaternion = chosen / chosen.norm(dim=-1, keepdim=True)
    return torch.where(quaternion[..., :1] < 0, -quaternion, quaternion)


def rigid_matrix(rotation: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) and (..., 3) -> (..., 4, 4) homogeneous transform x -> R x + t."""
    top = torch.cat([rotation, translation[..., :, None]], -1)
    bottom = torch.zeros_like(top[..., :1, :])
    bottom[..., 0, 3] = 1.0
    return torch.cat([top, bottom], -2)


def invert_rigid(transform: torch.Tensor) -> torch.Tensor:
    """Inverse of rigid (..., 4, 4) transforms, by transposing the rotation."""
    rotation_t = transform[..., :3, :3].transpose(-1, -2)
    translation = -(rotation_t @ transform[..., :3, 3:])[..., 0]
    return rigid_matrix(rotation_t, translation)


def transform_points(transform: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Apply (..., 4, 4) transforms to (..., 3) points (broadcasting)."""
    return (transform[..., :3, :3] @ points[..., :, None])[..., 0] + transform[..., :3, 3]


def transform_point_sets(transform: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Apply one (B, 4, 4) transform to each of B point sets (B, N, 3), as a batched matrix
    product (much faster than broadcasting N tiny products). Strided views are made
    contiguous first: torch's batched product can be very slow on them (385 ms instead of
    0.1 ms for (24, 104, 3) joints sliced out of (24, 104, 4, 4) poses, torch 2.13 CPU)."""
    rotation_t = transform[:, :3, :3].transpose(-1, -2).contiguous()
    return points.contiguous() @ rotation_t + transform[:, None, :3, 3]

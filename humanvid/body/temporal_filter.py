"""Filters over time of a fitted body sequence: the kernels and their application to BodyParams."""

from __future__ import annotations

import math
from typing import Mapping

import torch

from humanvid.body.model import BodyModel, BodyParams
from humanvid.body.rotations import axis_angle_to_matrix, matrix_to_axis_angle, nearest_axis_angles


def box_kernel(radius: int) -> torch.Tensor:
    """(2 radius + 1,) moving average."""
    return torch.full((2 * max(radius, 0) + 1,), 1.0 / (2 * max(radius, 0) + 1), dtype=torch.float64)


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """(2 ⌈3σ⌉ + 1,) normalised Gaussian over frame offsets; (1,) identity for σ ≤ 0."""
    if sigma <= 0:
        return torch.ones(1, dtype=torch.float64)
    reach = math.ceil(3 * sigma)
    offsets = torch.arange(-reach, reach + 1, dtype=torch.float64)
    weights = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return weights / weights.sum()


def smoothed(params: BodyParams, kernel: torch.Tensor, linear_ends: bool = False) -> BodyParams:
    """The per-frame values filtered over time by the odd-length `kernel` (filtered_sequence).

    Used on the independent per-frame initialisations, which jitter (the optimiser would spend
    its iterations on that), and on the fitted sequence (final_filter). Rotations are filtered as
    rotations (filtered_rotations), translations as vectors.
    """
    return BodyParams(filtered_rotations(params.global_orient, kernel, linear_ends),
                      filtered_sequence(params.translation, kernel, linear_ends),
                      filtered_rotations(params.pose, kernel, linear_ends), params.shape)


def final_filter(body: BodyModel, params: BodyParams, sigma: float, part_sigmas: Mapping[str, float]) -> BodyParams:
    """The fitted sequence filtered over time, with linear ends: a Gaussian of σ `sigma` frames,
    except for the parts in `part_sigmas` ("global_orient", or an initialisation role of the
    body's pose joints, BodyModel.initialization_joints, "shin" standing for both shins), which
    get their own σ. σ ≤ 0: unchanged."""
    if sigma <= 0:
        return params
    filtered = smoothed(params, gaussian_kernel(sigma), linear_ends=True)
    orient, pose = filtered.global_orient, filtered.pose.clone()
    index = {name: i for i, name in enumerate(body.pose_joint_names)}
    for part, part_sigma in part_sigmas.items():
        kernel = gaussian_kernel(part_sigma)
        if part == "global_orient":
            orient = filtered_rotations(params.global_orient, kernel, linear_ends=True)
            continue
        roles = [role for role in (part, f"left_{part}", f"right_{part}") if role in body.initialization_joints]
        if not roles:
            raise ValueError(f"{part!r} is neither global_orient nor a pose role of the {body.name} body")
        joints = [index[body.initialization_joints[role]] for role in roles]
        pose[:, joints] = filtered_rotations(params.pose[:, joints], kernel, linear_ends=True)
    return BodyParams(orient, filtered.translation, pose, params.shape)


def filtered_rotations(axis_angles: torch.Tensor, kernel: torch.Tensor, linear_ends: bool = False) -> torch.Tensor:
    """(T, ..., 3) rotation vectors (or (T, 3 P): P per frame, flat) filtered over the frames by the odd-length
    `kernel` (weights summing to 1), as rotations; unchanged for T < 3.

    Each frame's neighbours are taken relative to it (R_t^T R_s: small rotations, whatever the angle), their
    rotation vectors averaged with the kernel and applied back to R_t. Averaging the rotation vectors
    themselves fails for a person turning round: unwrapped over a turn they grow past pi, where a small
    change of axis is a large change of vector (a turntable's last frames came out lying down). The ends
    are continued as filtered_sequence does, on the rotation group (linear: R_0 R_k^T R_0). The result is
    written as the representation nearest to the input's (continuous over time where the input is).
    """
    radius = len(kernel) // 2
    count = axis_angles.shape[0]
    if radius == 0 or count < 3:
        return axis_angles
    if axis_angles.shape[-1] != 3:  # (T, 3 P) poses: one rotation vector per three values
        return filtered_rotations(axis_angles.reshape(count, -1, 3), kernel, linear_ends).reshape(axis_angles.shape)
    rotations = axis_angle_to_matrix(axis_angles)
    if linear_ends:
        before = torch.arange(radius, 0, -1).clamp(max=count - 1)
        after = (count - 1 - torch.arange(1, radius + 1)).clamp(min=0)
        first, last = rotations[:1], rotations[-1:]
        padded = torch.cat([first @ rotations[before].transpose(-1, -2) @ first, rotations,
                            last @ rotations[after].transpose(-1, -2) @ last])
    else:
        padded = torch.cat([rotations[:1].expand(radius, *rotations.shape[1:]), rotations,
                            rotations[-1:].expand(radius, *rotations.shape[1:])])
    inverse = rotations.transpose(-1, -2)
    mean = torch.zeros_like(axis_angles)
    for offset, weight in enumerate(kernel.to(axis_angles.dtype)):
        mean = mean + weight * matrix_to_axis_angle(inverse @ padded[offset:offset + count])
    filtered = matrix_to_axis_angle(rotations @ axis_angle_to_matrix(mean))
    return nearest_axis_angles(filtered, axis_angles)


def filtered_sequence(values: torch.Tensor, kernel: torch.Tensor, linear_ends: bool = False) -> torch.Tensor:
    """(T, ...) values filtered over the frames by the odd-length `kernel`; unchanged for T < 3.

    Beyond the ends the sequence is continued as a constant, or with linear_ends by point
    reflection about the end frame (2 x₀ − x_k), which keeps a steady motion steady up to the
    last frame.
    """
    radius = len(kernel) // 2
    count = values.shape[0]
    if radius == 0 or count < 3:
        return values
    weights = kernel.to(values.dtype)[None, None]
    flat = values.reshape(count, -1).T[:, None, :]  # (C, 1, T)
    if linear_ends:
        before = torch.arange(radius, 0, -1).clamp(max=count - 1)  # frames mirrored before the first
        after = (count - 1 - torch.arange(1, radius + 1)).clamp(min=0)  # and after the last
        first, last = flat[..., :1], flat[..., -1:]
        padded = torch.cat([2 * first - flat[..., before], flat, 2 * last - flat[..., after]], dim=-1)
    else:
        padded = torch.nn.functional.pad(flat, (radius, radius), mode="replicate")
    return torch.nn.functional.conv1d(padded, weights)[:, 0].T.contiguous().reshape(values.shape)

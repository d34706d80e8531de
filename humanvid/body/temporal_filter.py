"""Filters over time of a fitted body sequence: the kernels, their application to BodyParams, and the gate
that gives a limb back a lighter filter's pose where the landmarks show the filter cut a fast motion short."""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Mapping

import torch

from humanvid.body.fitting_losses import reprojection_error_px
from humanvid.body.model import BodyModel, BodyParams
from humanvid.body.rotations import axis_angle_to_matrix, matrix_to_axis_angle, nearest_axis_angles
from humanvid.constants import CROP_SIZE
from humanvid.landmarks import landmark_indices
from humanvid.projection import project

EVIDENCE_SIGMA = 2.0  # frames over which a reprojection residual is averaged before the gate reads it
GATE_SPREAD = 1.0  # frames: σ of the Gaussian that spreads the gate's weights over time

# Per limb: the initialisation roles of its joints (per side) and the MediaPipe landmarks that show where it is.
LIMBS = MappingProxyType({
    "arm": (("upper_arm", "forearm"), ("elbow", "wrist", "pinky", "index", "thumb")),
    "leg": (("thigh", "shin", "foot"), ("knee", "ankle", "heel", "foot_index")),
})  # fmt: skip


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


def evidence_gated(body: BodyModel, light: BodyParams, filtered: BodyParams, pixels: torch.Tensor,
                   weights: torch.Tensor, crop_sides: torch.Tensor, camera: torch.Tensor,
                   gate: tuple[float, float]) -> BodyParams:
    """`filtered` moved towards `light` (the same fit under a lighter filter) limb by limb, where the
    landmarks say that the filter cut a fast motion short.

    Per limb (LIMBS, per side) and frame, the excess is how much further (crop px) its keypoints lie from
    their landmarks in `filtered` than in `light`, each residual first averaged over nearby frames
    (EVIDENCE_SIGMA): landmark jitter, which the filter is there to remove, does not last; a motion cut
    short does. The limb's weight, (excess − gate[0]) / (gate[1] − gate[0]) clipped to [0, 1] and spread
    over time (maximum over ±1 frame, then a Gaussian of σ GATE_SPREAD), moves its joints and the joints
    above them (a joint takes the largest weight of the limbs below it; orientation and translation the
    largest of all) along the shortest rotation towards `light`.

    light, filtered: T frames; pixels (T, 33, 2) full-frame landmarks, weights (T, 33) (0: not seen),
    crop_sides (T,) full-frame px, camera (3, 3) intrinsics."""
    with torch.no_grad():
        projected = {name: project(body(params).keypoints, camera) for name, params in (("light", light),
                                                                                         ("filtered", filtered))}
    scale = (CROP_SIZE / crop_sides)[:, None, None]
    index = {name: i for i, name in enumerate(body.pose_joint_names)}
    joint_weights = torch.zeros(len(light.pose), len(index), dtype=light.pose.dtype)
    for part, (roles, landmarks) in LIMBS.items():
        for side in ("left", "right"):
            ids = landmark_indices(*(f"{side}_{name}" for name in landmarks))
            errors = {name: _lasting_error(value[:, ids] * scale, pixels[:, ids] * scale, weights[:, ids],
                                           EVIDENCE_SIGMA) for name, value in projected.items()}
            excess = torch.nan_to_num(errors["filtered"] - errors["light"])
            weight = ((excess - gate[0]) / (gate[1] - gate[0])).clamp(0.0, 1.0)
            weight = torch.nn.functional.max_pool1d(weight[None, None], 3, stride=1, padding=1)[0, 0]
            weight = filtered_sequence(weight, gaussian_kernel(GATE_SPREAD))
            joints = {body.initialization_joints[f"{side}_{role}"] for role in roles}
            if part == "arm":
                joints.add(body.wrist_joints[0 if side == "left" else 1])
            for joint in list(joints):
                joints |= body.ancestors(joint)
            chain = [index[joint] for joint in joints if joint in index]
            joint_weights[:, chain] = torch.maximum(joint_weights[:, chain], weight[:, None])
    root = joint_weights.max(dim=1).values
    pose = blended_rotations(filtered.pose, light.pose, joint_weights)
    orient = blended_rotations(filtered.global_orient, light.global_orient, root)
    translation = filtered.translation + root[:, None] * (light.translation - filtered.translation)
    return BodyParams(orient, translation, pose, filtered.shape)


def _lasting_error(projected: torch.Tensor, pixels: torch.Tensor, weights: torch.Tensor, sigma: float) -> torch.Tensor:
    """(T,) weighted mean over the K keypoints of the length of their reprojection residuals averaged over
    nearby frames (Gaussian of σ `sigma` frames, weighted): an error that lasts, not the landmarks' jitter.

    projected, pixels: (T, K, 2); weights (T, K)."""
    kernel = gaussian_kernel(sigma)
    residual = filtered_sequence(weights[..., None] * (projected - pixels), kernel)
    lasting = residual / filtered_sequence(weights, kernel).clamp_min(1e-9)[..., None]
    return reprojection_error_px(lasting, torch.zeros_like(lasting), weights)


def blended_rotations(start: torch.Tensor, end: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """(..., 3) rotation vectors part of the way from `start` to `end` (same shape) along the shortest
    rotation between them: weight (...) 0 gives start, 1 end; written nearest to `start`'s representation."""
    rotations = axis_angle_to_matrix(start)
    step = matrix_to_axis_angle(rotations.transpose(-1, -2) @ axis_angle_to_matrix(end))
    blended = matrix_to_axis_angle(rotations @ axis_angle_to_matrix(weight[..., None].to(step) * step))
    return nearest_axis_angles(blended, start)


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

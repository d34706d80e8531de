"""Per-frame initial body parameters from MediaPipe landmarks (no optimisation).

1. Global orientation: the rotation that best maps the model's torso (shoulders, hips)
   onto MediaPipe's 3D world landmarks (Kabsch).
2. Pose from bone directions of the world landmarks: the spine (Kabsch on the hip centre
   and the shoulders: lean and twist), the head (Kabsch on nose, eyes, ears), then each limb as a two-bone chain: the upper bone
   points along the observed upper segment and is twisted so that the elbow or knee hinge
   is normal to the observed limb plane, the lower bone bends about that hinge, the foot
   points along ankle -> foot index. Twice, then clamped to the joint limits.
3. Translation: the root position that best reprojects the weighted keypoints with the
   known intrinsics (linear least squares, exact for exact data).

MediaPipe's world landmarks are metres about the hip centre with y down and z away from
the viewer; :func:`mediapipe_world_to_output_axes` flips them into the output (OpenGL
camera) axes. MediaPipe predicts them from a crop centred on the hips, as if its camera
looked straight at the person: :func:`mediapipe_world_to_camera` also turns them from that
line of sight to the real camera's axes, which matters for people off the image centre
(on 16 synthetic clips, 2–29° off axis: torso orientation error 16.0° → 12.0°;
docs/fitting_tuning.md). Only their directions are used, so their scale (which MediaPipe
guesses) does not matter; the body's size comes from its shape.
"""

from __future__ import annotations

import math

import torch

from humanvid.landmarks import MEDIAPIPE_INDEX
from humanvid.body.model import BodyModel, BodyOutput, BodyParams
from humanvid.body.rotations import axis_angle_to_matrix, matrix_to_axis_angle

ROLES = (
    "spine", "neck",
    "left_upper_arm", "left_forearm", "right_upper_arm", "right_forearm",
    "left_thigh", "left_shin", "left_foot", "right_thigh", "right_shin", "right_foot",
)  # fmt: skip

_TORSO = [MEDIAPIPE_INDEX[name] for name in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
_HIPS = [MEDIAPIPE_INDEX["left_hip"], MEDIAPIPE_INDEX["right_hip"]]
_FACE = [MEDIAPIPE_INDEX[name] for name in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")]
# Limb chains: (upper role, lower role, end role or None, root, middle, end, tip landmarks).
_LIMBS = [
    (f"{side}_upper_arm", f"{side}_forearm", None, f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist", None)
    for side in ("left", "right")
] + [
    (f"{side}_thigh", f"{side}_shin", f"{side}_foot", f"{side}_hip", f"{side}_knee", f"{side}_ankle", f"{side}_foot_index")
    for side in ("left", "right")
]
_STRAIGHT_LIMB_SIN = math.sin(math.radians(10.0))
_MAX_TWIST = math.radians(100.0)


MEDIAPIPE_TO_OUTPUT_AXES = (1.0, -1.0, -1.0)  # per-axis sign, either way: y down, z away ↔ y up, z towards the camera


def mediapipe_world_to_output_axes(world_landmarks: torch.Tensor) -> torch.Tensor:
    """(..., 3) MediaPipe world coordinates (x right, y down, z away) -> output axes
    (x right, y up, z towards the camera)."""
    return world_landmarks * world_landmarks.new_tensor(MEDIAPIPE_TO_OUTPUT_AXES)


def line_of_sight_rotation(pixels: torch.Tensor, fx: float, fy: float, cx: float, cy: float) -> torch.Tensor:
    """(B, 33, 2) landmark pixels -> (B, 3, 3) the smallest rotation taking the optical axis
    (-z) to the ray through the hip centre (identity where the hips are unknown)."""
    hips = 0.5 * (pixels[:, _HIPS[0]] + pixels[:, _HIPS[1]])
    ray = torch.stack([(hips[:, 0] - cx) / fx, -(hips[:, 1] - cy) / fy, -torch.ones_like(hips[:, 0])], dim=-1)
    ray = torch.where(torch.isfinite(ray).all(dim=-1, keepdim=True), ray, ray.new_tensor([0.0, 0.0, -1.0]))
    return minimal_rotation(ray.new_tensor([0.0, 0.0, -1.0]).expand_as(ray), ray)


def mediapipe_world_to_camera(world_landmarks: torch.Tensor, pixels: torch.Tensor, fx: float, fy: float, cx: float, cy: float) -> torch.Tensor:
    """(B, 33, 3) MediaPipe world landmarks (seen along the line of sight to the hips) ->
    (B, 33, 3) the same hip-centred points in the output camera axes."""
    rotation = line_of_sight_rotation(pixels, fx, fy, cx, cy).to(world_landmarks.dtype)
    return mediapipe_world_to_output_axes(world_landmarks) @ rotation.transpose(-1, -2)


def camera_to_mediapipe_world(points: torch.Tensor, pixels: torch.Tensor, fx: float, fy: float, cx: float, cy: float) -> torch.Tensor:
    """Inverse of :func:`mediapipe_world_to_camera`: (B, 33, 3) hip-centred points in the
    camera axes -> MediaPipe's world landmarks of them."""
    rotation = line_of_sight_rotation(pixels, fx, fy, cx, cy).to(points.dtype)
    return mediapipe_world_to_output_axes(points @ rotation)


def kabsch_rotation(source: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """(B, N, 3) point sets -> (B, 3, 3) rotation R minimising sum w |R (s - s_mean) - (t - t_mean)|^2."""
    if weights is None:
        weights = torch.ones(source.shape[:2], dtype=source.dtype, device=source.device)
    weights = weights[..., None] / weights.sum(dim=1, keepdim=True)[..., None].clamp_min(1e-12)
    source = source - (weights * source).sum(dim=1, keepdim=True)
    target = target - (weights * target).sum(dim=1, keepdim=True)
    covariance = (weights * target).transpose(1, 2) @ source  # (B, 3, 3) = sum w t s^T
    u, _, vt = torch.linalg.svd(covariance)
    sign = torch.sign(torch.linalg.det(u @ vt))
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    correction = torch.diag_embed(torch.stack([torch.ones_like(sign), torch.ones_like(sign), sign], dim=-1))
    return u @ correction @ vt


def minimal_rotation(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, 3) directions -> (B, 3, 3) the smallest rotation taking `source` to `target`'s direction
    (180 degrees about an axis normal to `source` when they are opposite)."""
    a = source / source.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    b = target / target.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    axis = torch.linalg.cross(a, b)
    sin = axis.norm(dim=-1, keepdim=True)
    cos = (a * b).sum(dim=-1, keepdim=True)
    # Opposite directions: any axis normal to a.
    helper = torch.where(a[..., :1].abs() < 0.9, a.new_tensor([1.0, 0.0, 0.0]), a.new_tensor([0.0, 1.0, 0.0]))
    fallback = torch.linalg.cross(a, helper.expand_as(a))
    axis = torch.where(sin > 1e-9, axis / sin.clamp_min(1e-12), fallback / fallback.norm(dim=-1, keepdim=True))
    return axis_angle_to_matrix(axis * torch.atan2(sin, cos))


def rotation_about(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """(B, 3) unit axes, (B,) angles -> (B, 3, 3)."""
    return axis_angle_to_matrix(axis * angle[..., None])


class _PoseEditor:
    """Applies world rotations to pose joints of a batch, keeping track of the parent frames
    of the joints below within one stage (all computed from one forward pass)."""

    def __init__(self, body: BodyModel, params: BodyParams, output: BodyOutput) -> None:
        self.body = body
        self.rotations = axis_angle_to_matrix(params.pose)  # (B, P, 3, 3)
        self.frames = body.pose_parent_frames(params, output)  # (B, P, 3, 3)
        self.index = {name: i for i, name in enumerate(body.pose_joint_names)}

    def joint(self, role: str) -> int:
        return self.index[self.body.initialization_joints[role]]

    def hinge_axis(self, role: str, parent_rotation: torch.Tensor) -> torch.Tensor:
        """(B, 3) world bend axis of a pose joint after its parent's frame turned by `parent_rotation`."""
        joint = self.joint(role)
        bend_axis = self.body.pose_prior.joint_frames[joint][:, 0]
        return parent_rotation @ self.frames[:, joint] @ bend_axis

    def rotate(self, role: str, world_rotation: torch.Tensor, parent_rotation: torch.Tensor | None = None) -> None:
        """Rotate joint `role` (and its subtree) by `world_rotation` (B, 3, 3); its parent's
        frame has meanwhile been turned by `parent_rotation` (B, 3, 3) in this stage."""
        joint = self.joint(role)
        frame = self.frames[:, joint]
        if parent_rotation is not None:
            frame = parent_rotation @ frame
        self.rotations[:, joint] = frame.transpose(-1, -2) @ world_rotation @ frame @ self.rotations[:, joint]

    def pose(self) -> torch.Tensor:
        return matrix_to_axis_angle(self.rotations)


def _landmark(points: torch.Tensor, name: str) -> torch.Tensor:
    return points[:, MEDIAPIPE_INDEX[name]]


def _upper_torso(points: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3): the hip centre and both shoulders."""
    hips = _midpoint(points, "left_hip", "right_hip")
    return torch.stack([hips, _landmark(points, "left_shoulder"), _landmark(points, "right_shoulder")], dim=1)


def _midpoint(points: torch.Tensor, first: str, second: str) -> torch.Tensor:
    return 0.5 * (_landmark(points, first) + _landmark(points, second))


@torch.no_grad()
def orientation_and_pose_from_world_landmarks(
    body: BodyModel, world_landmarks: torch.Tensor, shape: torch.Tensor | None = None, iterations: int = 2
) -> BodyParams:
    """Global orientation and pose whose bone directions follow MediaPipe's 3D landmarks.

    Args:
        body: any body model.
        world_landmarks: (B, 33, 3) MediaPipe world landmarks already in the camera axes
            (:func:`mediapipe_world_to_camera`); frames with non-finite values keep the
            rest pose, facing the camera.
        shape: (1 or B, S) body shape; the prior's mean when None.
    Returns:
        BodyParams with translation 0 (the root at the origin), pose within the limits.
    """
    batch = world_landmarks.shape[0]
    params = body.neutral_params(batch)
    if shape is not None:
        params.shape = shape.to(params.shape)
    target = world_landmarks.to(params.pose)
    output = body(params)
    valid = torch.isfinite(target).all(dim=-1).all(dim=-1)
    target = torch.where(valid[:, None, None], target, output.keypoints)

    global_rotation = kabsch_rotation(output.keypoints[:, _TORSO], target[:, _TORSO])
    params.global_orient = matrix_to_axis_angle(global_rotation)

    output = body(params)
    editor = _PoseEditor(body, params, output)
    current = output.keypoints
    # Upper torso (shoulders seen from the hip centre): its lean and its twist.
    spine = kabsch_rotation(_upper_torso(current), _upper_torso(target))
    editor.rotate("spine", spine)
    head = kabsch_rotation(current[:, _FACE] @ spine.transpose(-1, -2), target[:, _FACE])
    editor.rotate("neck", head, parent_rotation=spine)
    params.pose = editor.pose()

    for _ in range(iterations):
        output = body(params)
        editor = _PoseEditor(body, params, output)
        for limb in _LIMBS:
            _align_limb(editor, output.keypoints, target, *limb)
        params.pose = body.pose_prior.clamp(editor.pose())
    return params


def _align_limb(
    editor: _PoseEditor,
    current: torch.Tensor,
    target: torch.Tensor,
    upper_role: str,
    lower_role: str,
    end_role: str | None,
    root: str,
    middle: str,
    end: str,
    tip: str | None,
) -> None:
    """Two-bone alignment of one limb (see module docstring), then its end bone's direction."""
    upper_now = _landmark(current, middle) - _landmark(current, root)
    lower_now = _landmark(current, end) - _landmark(current, middle)
    upper_goal = _landmark(target, middle) - _landmark(target, root)
    lower_goal = _landmark(target, end) - _landmark(target, middle)
    swing = minimal_rotation(upper_now, upper_goal)

    # Twist the upper bone about its new direction so that the hinge is normal to the
    # observed limb plane, oriented so that bending is a flexion (positive bend).
    axis = upper_goal / upper_goal.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    hinge = swing @ editor.hinge_axis(lower_role, swing)[..., None]
    hinge = hinge[..., 0] - (hinge[..., 0] * axis).sum(-1, keepdim=True) * axis
    plane_normal = torch.linalg.cross(upper_goal, lower_goal)
    bent = plane_normal.norm(dim=-1) > _STRAIGHT_LIMB_SIN * upper_goal.norm(dim=-1) * lower_goal.norm(dim=-1)
    twist = torch.atan2((torch.linalg.cross(hinge, plane_normal) * axis).sum(-1), (hinge * plane_normal).sum(-1))
    twist = torch.where(twist.abs() > _MAX_TWIST, twist - math.pi * torch.sign(twist), twist)
    twist = torch.where(bent, twist, torch.zeros_like(twist))
    upper_rotation = rotation_about(axis, twist) @ swing
    editor.rotate(upper_role, upper_rotation)

    bend = minimal_rotation((upper_rotation @ lower_now[..., None])[..., 0], lower_goal)
    editor.rotate(lower_role, bend, parent_rotation=upper_rotation)
    if end_role is None or tip is None:
        return
    end_now = _landmark(current, tip) - _landmark(current, end)
    end_goal = _landmark(target, tip) - _landmark(target, end)
    so_far = bend @ upper_rotation
    editor.rotate(end_role, minimal_rotation((so_far @ end_now[..., None])[..., 0], end_goal), parent_rotation=so_far)


def solve_translation(
    keypoints: torch.Tensor, pixels: torch.Tensor, weights: torch.Tensor, fx: float, fy: float, cx: float, cy: float
) -> torch.Tensor:
    """Root translation t such that the keypoints + t best reproject onto the pixels.

    With the OpenGL camera (looking down -z), a point p projects to
    u = cx + fx p_x / (-p_z), v = cy - fy p_y / (-p_z); multiplying out gives two linear
    equations in t per keypoint, solved in the weighted least-squares sense.

    Args:
        keypoints: (B, K, 3) keypoints of the posed body with its root at the origin.
        pixels: (B, K, 2) observed image positions (full-frame pixels).
        weights: (B, K) non-negative weights (0 for unseen keypoints).
    Returns:
        (B, 3) translations; (0, 0, -3) for frames with fewer than 3 weighted keypoints.
    """
    du = pixels[..., 0] - cx
    dv = pixels[..., 1] - cy
    zeros = torch.zeros_like(du)
    # fx (X + tx) + du (Z + tz) = 0   and   fy (Y + ty) - dv (Z + tz) = 0
    rows_u = torch.stack([torch.full_like(du, fx), zeros, du], dim=-1)
    rows_v = torch.stack([zeros, torch.full_like(dv, fy), -dv], dim=-1)
    rhs_u = -(fx * keypoints[..., 0] + du * keypoints[..., 2])
    rhs_v = -(fy * keypoints[..., 1] - dv * keypoints[..., 2])
    matrix = torch.cat([rows_u, rows_v], dim=1)  # (B, 2K, 3)
    rhs = torch.cat([rhs_u, rhs_v], dim=1)
    sqrt_w = torch.cat([weights, weights], dim=1).clamp_min(0).sqrt()
    usable = (weights > 0).sum(dim=1) >= 3
    finite = torch.isfinite(matrix).all(-1) & torch.isfinite(rhs)
    sqrt_w = torch.where(finite, sqrt_w, torch.zeros_like(sqrt_w))
    matrix = torch.where(finite[..., None], matrix, torch.zeros_like(matrix)) * sqrt_w[..., None]
    rhs = torch.where(finite, rhs, torch.zeros_like(rhs)) * sqrt_w
    normal = matrix.transpose(1, 2) @ matrix + 1e-9 * torch.eye(3, dtype=matrix.dtype, device=matrix.device)
    solution = torch.linalg.solve(normal, (matrix.transpose(1, 2) @ rhs[..., None]))[..., 0]
    default = solution.new_tensor([0.0, 0.0, -3.0]).expand_as(solution)
    return torch.where(usable[:, None], solution, default)


@torch.no_grad()
def initialize_from_landmarks(
    body: BodyModel,
    pixels: torch.Tensor,
    visibility: torch.Tensor,
    world_landmarks: torch.Tensor,
    fx: float,
    fy: float,
    cx: float,
    cy: float,
    shape: torch.Tensor | None = None,
) -> BodyParams:
    """Initial parameters of each frame from MediaPipe's output.

    Args:
        pixels: (B, 33, 2) landmark positions in full-frame pixels.
        visibility: (B, 33) MediaPipe visibility in [0, 1].
        world_landmarks: (B, 33, 3) MediaPipe world landmarks (MediaPipe axes, y down).
        fx, fy, cx, cy: full-frame intrinsics.
        shape: (1 or B, S) body shape (the prior's mean when None).
    Returns:
        BodyParams in the output (camera) frame.
    """
    dtype = body.dtype
    params = orientation_and_pose_from_world_landmarks(
        body, mediapipe_world_to_camera(world_landmarks.to(dtype), pixels.to(dtype), fx, fy, cx, cy), shape=shape
    )
    output = body(params)
    weights = torch.nan_to_num(visibility.to(dtype), nan=0.0) * output.keypoint_weights
    params.translation = solve_translation(output.keypoints, pixels.to(dtype), weights, fx, fy, cx, cy)
    return params

import math

import torch

from humanvid.body.rotations import (
    axis_angle_to_matrix,
    invert_rigid,
    matrix_to_axis_angle,
    nearest_axis_angles,
    principal_axis_angles,
    rigid_matrix,
    transform_point_sets,
    transform_points,
    unwrap_axis_angles,
)
from humanvid.body.temporal_filter import filtered_rotations, filtered_sequence, gaussian_kernel


def test_axis_angle_to_matrix_matches_a_known_rotation():
    rotation = axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2], dtype=torch.float64))
    assert torch.allclose(rotation @ torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))


def test_rotations_are_orthonormal_and_round_trip():
    torch.manual_seed(0)
    axis_angle = torch.randn(200, 3, dtype=torch.float64)
    axis_angle = axis_angle / axis_angle.norm(dim=1, keepdim=True) * torch.rand(200, 1, dtype=torch.float64) * (math.pi - 1e-3)
    axis_angle[:3] = torch.tensor([[0.0, 0.0, 0.0], [1e-7, 0.0, 0.0], [0.0, math.pi - 1e-6, 0.0]])
    rotation = axis_angle_to_matrix(axis_angle)
    eye = torch.eye(3, dtype=torch.float64)
    assert torch.allclose(rotation @ rotation.transpose(-1, -2), eye.expand_as(rotation), atol=1e-12)
    assert torch.allclose(torch.linalg.det(rotation), torch.ones(200, dtype=torch.float64))
    assert torch.allclose(axis_angle_to_matrix(matrix_to_axis_angle(rotation)), rotation, atol=1e-9)


def test_gradient_is_finite_at_zero_rotation():
    axis_angle = torch.zeros(4, 3, requires_grad=True)
    axis_angle_to_matrix(axis_angle).sum().backward()
    assert torch.isfinite(axis_angle.grad).all()


def test_rigid_inverse_and_point_transform():
    torch.manual_seed(1)
    transform = rigid_matrix(axis_angle_to_matrix(torch.randn(5, 3)), torch.randn(5, 3))
    points = torch.randn(5, 3)
    back = transform_points(invert_rigid(transform), transform_points(transform, points))
    assert torch.allclose(back, points, atol=1e-5)


def test_transform_point_sets_matches_transform_points():
    torch.manual_seed(2)
    transform = rigid_matrix(axis_angle_to_matrix(torch.randn(3, 3)), torch.randn(3, 3))
    points = torch.randn(3, 4, 4)[..., :3]  # a strided view
    assert torch.allclose(transform_point_sets(transform, points), transform_points(transform[:, None], points), atol=1e-6)


def test_unwrap_makes_rotation_vectors_continuous_through_180_degrees():
    angles = torch.linspace(2.8, 3.5, 8)  # about +y, through pi
    rotations = axis_angle_to_matrix(torch.stack([torch.zeros(8), angles, torch.zeros(8)], dim=1)[:, None])
    wrapped = matrix_to_axis_angle(rotations)
    assert (wrapped[1:] - wrapped[:-1]).norm(dim=-1).max() > 5.0  # the jump at pi
    unwrapped = unwrap_axis_angles(wrapped)
    assert (unwrapped[1:] - unwrapped[:-1]).norm(dim=-1).max() < 0.2
    assert torch.allclose(axis_angle_to_matrix(unwrapped), rotations, atol=1e-5)


def _turn(frames: int = 40) -> torch.Tensor:
    """Rotation vectors of a body turning 1.5 times about y while it sways about x, unwrapped over time."""
    t = torch.linspace(0.0, 1.0, frames, dtype=torch.float64)
    yaw = axis_angle_to_matrix(torch.stack([torch.zeros_like(t), 3.0 * torch.pi * t, torch.zeros_like(t)], 1))
    sway = axis_angle_to_matrix(torch.stack([0.15 * torch.sin(12.0 * t), torch.zeros_like(t), torch.zeros_like(t)], 1))
    return unwrap_axis_angles(matrix_to_axis_angle(yaw @ sway))


def _angle_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return matrix_to_axis_angle(axis_angle_to_matrix(a).transpose(-1, -2) @ axis_angle_to_matrix(b)).norm(dim=-1)


def test_filtering_a_full_turn_keeps_the_rotations():
    turn = _turn()
    assert turn.norm(dim=-1).max() > 1.5 * torch.pi  # unwrapped: vectors far past a half turn
    filtered = filtered_rotations(turn, gaussian_kernel(2.0), linear_ends=True)
    assert _angle_between(filtered, turn).max() < 0.1  # radians: the sway smoothed a little, the turn kept
    assert (filtered - turn).norm(dim=-1).max() < 0.5  # the same representation: continuous over time
    vectors = filtered_sequence(turn, gaussian_kernel(2.0), linear_ends=True)
    assert _angle_between(vectors, turn).max() > 0.3  # averaging the vectors themselves would not


def test_principal_and_nearest_axis_angles_are_the_same_rotations():
    turn = _turn()
    principal = principal_axis_angles(turn)
    assert principal.norm(dim=-1).max() <= torch.pi + 1e-9
    assert _angle_between(principal, turn).max() < 1e-9
    torch.testing.assert_close(nearest_axis_angles(principal, turn), turn)

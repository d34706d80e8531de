"""Per-frame initialisation from MediaPipe-like landmarks, on bodies posed by the model
itself (so the truth is known)."""

import math

import pytest
import torch

from humanvid.body.initialization import (
    camera_to_mediapipe_world,
    initialize_from_landmarks,
    kabsch_rotation,
    mediapipe_world_to_camera,
    mediapipe_world_to_output_axes,
    minimal_rotation,
    solve_translation,
)
from humanvid.body.rotations import axis_angle_to_matrix

FX = FY = 800.0
CX, CY = 400.0, 300.0
BODY_LANDMARKS = [11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32]


def _project(points):
    depth = -points[..., 2]
    return torch.stack([CX + FX * points[..., 0] / depth, CY - FY * points[..., 1] / depth], dim=-1)


def test_kabsch_and_minimal_rotation():
    torch.manual_seed(0)
    rotation = axis_angle_to_matrix(torch.randn(4, 3))
    points = torch.randn(4, 6, 3)
    moved = points @ rotation.transpose(1, 2) + torch.randn(4, 1, 3)
    assert torch.allclose(kabsch_rotation(points, moved), rotation, atol=1e-4)
    a, b = torch.randn(5, 3), torch.randn(5, 3)
    a[0], b[0] = torch.tensor([0.0, 1.0, 0.0]), torch.tensor([0.0, -2.0, 0.0])  # opposite
    turned = (minimal_rotation(a, b) @ a[..., None])[..., 0]
    assert torch.allclose(turned / turned.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True), atol=1e-5)


def test_solve_translation_is_exact_for_exact_data():
    torch.manual_seed(1)
    keypoints = 0.5 * torch.randn(3, 33, 3, dtype=torch.float64)
    translation = torch.tensor([[0.2, -0.1, -3.0], [0.0, 0.5, -6.0], [-1.0, 0.0, -2.5]], dtype=torch.float64)
    pixels = _project(keypoints + translation[:, None])
    weights = torch.ones(3, 33, dtype=torch.float64)
    weights[2, 2:] = 0.0  # too few keypoints: a default
    solved = solve_translation(keypoints, pixels, weights, FX, FY, CX, CY)
    assert torch.allclose(solved[:2], translation[:2], atol=1e-6)
    assert torch.allclose(solved[2], torch.tensor([0.0, 0.0, -3.0], dtype=torch.float64))


def test_world_landmarks_are_turned_from_the_line_of_sight_to_the_camera_axes():
    torch.manual_seed(2)
    hips = torch.tensor([[0.0, 0.0, -3.0], [1.2, -0.8, -3.0], [-2.0, 1.0, -2.5]])
    pixels = torch.full((3, 33, 2), float("nan"))
    pixels[:, [23, 24]] = _project(hips)[:, None]
    # MediaPipe's z points away from the viewer: a landmark 1 m beyond the hips lies on the
    # camera's ray through the hips, wherever the person is in the image.
    beyond = torch.zeros(3, 33, 3)
    beyond[:, 0, 2] = 1.0
    points = mediapipe_world_to_camera(beyond, pixels, FX, FY, CX, CY)[:, 0]
    assert torch.allclose(points, hips / hips.norm(dim=-1, keepdim=True), atol=1e-5)
    # On the optical axis nothing turns; elsewhere lengths are kept and the inverse undoes it.
    world = torch.randn(3, 33, 3)
    turned = mediapipe_world_to_camera(world, pixels, FX, FY, CX, CY)
    assert torch.allclose(turned[0], mediapipe_world_to_output_axes(world[0]), atol=1e-6)
    assert not torch.allclose(turned[1], mediapipe_world_to_output_axes(world[1]), atol=1e-2)
    assert torch.allclose(turned.norm(dim=-1), world.norm(dim=-1), atol=1e-5)
    assert torch.allclose(camera_to_mediapipe_world(turned, pixels, FX, FY, CX, CY), world, atol=1e-5)
    # Unknown hips (no person): the axes are only flipped.
    pixels[2] = float("nan")
    assert torch.allclose(mediapipe_world_to_camera(world, pixels, FX, FY, CX, CY)[2], mediapipe_world_to_output_axes(world[2]))


def test_initialization_recovers_posed_anny_bodies(anny_body):
    generator = torch.Generator().manual_seed(0)
    batch = 6
    truth = anny_body.neutral_params(batch)
    truth.pose = anny_body.pose_prior.sample(batch, generator, scale=0.5)
    yaw = (torch.rand(batch, generator=generator) * 2 - 1) * math.pi
    truth.global_orient = torch.stack([torch.zeros(batch), yaw, torch.zeros(batch)], dim=1)
    truth.translation = torch.tensor([0.3, 0.1, -3.5]).expand(batch, 3).clone()
    with torch.no_grad():
        keypoints = anny_body(truth).keypoints
    hips = 0.5 * (keypoints[:, 23] + keypoints[:, 24])
    pixels = _project(keypoints)
    world = camera_to_mediapipe_world(keypoints - hips[:, None], pixels, FX, FY, CX, CY)
    visibility = torch.ones(batch, 33)
    # One frame without a person: NaN landmarks, zero visibility.
    world[5] = float("nan")
    pixels[5] = float("nan")
    visibility[5] = 0.0

    init = initialize_from_landmarks(anny_body, pixels, visibility, world, FX, FY, CX, CY)
    with torch.no_grad():
        found = anny_body(init).keypoints
    error = (found[:5, BODY_LANDMARKS] - keypoints[:5, BODY_LANDMARKS]).norm(dim=-1)
    assert error.mean() < 0.04 and error.mean(dim=1).max() < 0.06
    reprojection = (_project(found[:5]) - pixels[:5]).norm(dim=-1)[:, BODY_LANDMARKS]
    assert reprojection.mean() < 8.0
    assert anny_body.pose_prior.limit_violation(init.pose).max() < 1e-8
    for value in (init.pose, init.global_orient, init.translation):
        assert torch.isfinite(value).all()
    assert torch.allclose(init.translation[5], torch.tensor([0.0, 0.0, -3.0]))


@pytest.mark.parametrize("side", ["left", "right"])
def test_bent_elbow_is_recovered_as_a_flexion(anny_body, side):
    from humanvid.body.anny_pose import COMPACT_BONES

    truth = anny_body.neutral_params()
    components = torch.zeros(1, 19, 3)
    suffix = "L" if side == "left" else "R"
    components[0, COMPACT_BONES.index(f"lowerarm01.{suffix}"), 0] = math.radians(80)
    components[0, COMPACT_BONES.index(f"upperarm01.{suffix}"), 2] = math.radians(40)
    truth.pose = anny_body.pose_prior.from_joint_frames(components)
    truth.translation = torch.tensor([[0.0, 0.0, -3.0]])
    with torch.no_grad():
        keypoints = anny_body(truth).keypoints
    world = camera_to_mediapipe_world(keypoints - 0.5 * (keypoints[:, 23:24] + keypoints[:, 24:25]), _project(keypoints), FX, FY, CX, CY)
    init = initialize_from_landmarks(anny_body, _project(keypoints), torch.ones(1, 33), world, FX, FY, CX, CY)
    bend = anny_body.pose_prior.to_joint_frames(init.pose)[0, COMPACT_BONES.index(f"lowerarm01.{suffix}"), 0]
    assert abs(math.degrees(bend.item()) - 80) < 10

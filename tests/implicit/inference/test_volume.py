"""Meshing one frame: the visual hull culls what the mask excludes, the depth band what lies far in front of
or behind the body, the box follows the body."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from humanvid.implicit.inference.depth_band import banded, depth_band
from humanvid.implicit.inference.frame import BODY_PRIOR, FrameInputs, encode_frame, occupancy_function
from humanvid.implicit.inference.volume import frame_grid, frame_keep, mesh_frame, visual_hull
from humanvid.implicit.model.network import NetworkConfig, OccupancyNetwork
from humanvid.landmarks import HIPS, SHOULDERS
from preprocessing.crop import crop_affine

CENTER, RADIUS = np.array([0.2, -0.1, -3.0]), 0.3
INTRINSICS = np.array([600.0, 600.0, 319.5, 239.5])


def ball_frame(mask_half: bool = False) -> FrameInputs:
    u = INTRINSICS[0] * CENTER[0] / -CENTER[2] + INTRINSICS[2]
    v = INTRINSICS[3] - INTRINSICS[1] * CENTER[1] / -CENTER[2]
    affine = crop_affine(np.array([u, v]), 2.5 * INTRINSICS[0] * RADIUS / -CENTER[2])
    yy, xx = np.mgrid[0:512, 0:512]
    disk = (xx - 255.5) ** 2 + (yy - 255.5) ** 2 < (512 / 2.5 * 1.05) ** 2
    if mask_half:
        disk &= xx < 255
    body = CENTER + np.random.default_rng(0).normal(0, RADIUS / 2, (200, 3))
    keypoints = np.full((33, 3), np.nan)
    keypoints[SHOULDERS + HIPS] = CENTER
    return FrameInputs(np.zeros((512, 512, 3), np.uint8), disk.astype(np.uint8) * 255, INTRINSICS, affine,
                       keypoints, body)


def ball(points):
    return (1 / (1 + np.exp((np.linalg.norm(points - CENTER, axis=1) - RADIUS) / 0.005))).astype(np.float32)


def test_ball_inside_its_hull_comes_out_whole():
    mesh = mesh_frame(ball, ball_frame(), resolution=96, coarse_step=4)
    assert mesh.is_watertight
    assert np.linalg.norm(mesh.vertices - CENTER, axis=1).mean() == pytest.approx(RADIUS, abs=0.01)


def test_hull_cuts_what_the_mask_does_not_show():
    mesh = mesh_frame(ball, ball_frame(mask_half=True), resolution=96, coarse_step=4)
    assert mesh.vertices[:, 0].max() < CENTER[0] + 0.05  # the right half (x > centre) is gone
    assert mesh.vertices[:, 0].min() < CENTER[0] - RADIUS + 0.02


def deep_ball(points):
    """A ball of RADIUS stretched to 0.4 m half-depth along the camera axis: thicker than its body."""
    scaled = (points - CENTER) / [1.0, 1.0, 0.4 / RADIUS]
    return ball(scaled + CENTER)


def small_body_frame() -> FrameInputs:
    import trimesh

    frame = ball_frame()
    frame.body_vertices = trimesh.creation.icosphere(subdivisions=4, radius=0.2).vertices + CENTER
    return frame


def test_depth_band_trims_depth_in_front_of_and_behind_the_body_but_not_the_silhouette():
    frame = small_body_frame()
    free = mesh_frame(deep_ball, frame, resolution=96, coarse_step=4)
    banded = mesh_frame(deep_ball, frame, resolution=96, coarse_step=4, depth_margin=0.05)
    assert free.is_watertight and banded.is_watertight

    def depth_on_axis(mesh):  # the surface's depth extent around the line of sight through the centre
        near = np.linalg.norm(mesh.vertices[:, :2] - CENTER[:2], axis=1) < 0.05
        return np.abs(mesh.vertices[near, 2] - CENTER[2]).max()

    assert depth_on_axis(free) == pytest.approx(0.4, abs=0.02)
    assert depth_on_axis(banded) == pytest.approx(0.2 + 0.05, abs=0.02)  # body radius + margin
    # Sideways, beyond the body, the band keeps every depth: the silhouette is the ball's.
    assert np.ptp(banded.vertices[:, 0]) == pytest.approx(np.ptp(free.vertices[:, 0]), abs=0.02)
    assert np.ptp(banded.vertices[:, 0]) == pytest.approx(2 * RADIUS, abs=0.03)


def test_no_depth_margin_is_the_visual_hull_alone():
    frame = small_body_frame()
    points = CENTER + np.random.default_rng(2).normal(0, 0.3, (2000, 3))

    assert np.array_equal(frame_keep(frame)(points), visual_hull(frame)(points))
    banded = frame_keep(frame, depth_band(frame, 0.05, ramp=0.01))(points)
    assert banded.sum() < visual_hull(frame)(points).sum() and not (banded & ~visual_hull(frame)(points)).any()


def test_network_occupancy_function_is_batched_and_bounded():
    torch.manual_seed(0)
    network = OccupancyNetwork(NetworkConfig(feature_channels=16, encoder_channels=16, hidden=32)).eval()
    frame = ball_frame()
    occupancy = occupancy_function(network, encode_frame(network, frame), batch=100)
    points = CENTER + np.random.default_rng(1).normal(0, 0.3, (250, 3)).astype(np.float32)
    values = occupancy(points)
    assert values.shape == (250,) and np.all((values >= 0) & (values <= 1))
    assert np.allclose(values[:100], occupancy(points[:100]), atol=1e-6)


def test_a_network_with_the_body_sdf_needs_the_body_mesh_and_reads_it():
    import trimesh

    config = NetworkConfig(feature_channels=16, encoder_channels=16, hidden=16, body_sdf=True)
    network = OccupancyNetwork(config).eval()
    frame = ball_frame()
    with pytest.raises(ValueError, match="body mesh"):
        encode_frame(network, frame)
    body = trimesh.creation.icosphere(subdivisions=5, radius=RADIUS * 0.8)
    frame.body_vertices, frame.body_faces = body.vertices + CENTER, body.faces
    occupancy = occupancy_function(network, encode_frame(network, frame))
    near_body = CENTER + [[0, 0, RADIUS * 0.8 + 0.01], [0, 0, RADIUS * 0.8 - 0.01]]
    seen = []
    original = network.query

    def spy(encoded, points, camera, keypoints, body_sdf=None):
        seen.append(body_sdf)
        return original(encoded, points, camera, keypoints, body_sdf)

    network.query = spy
    assert occupancy(near_body).shape == (2,)
    assert seen[0][0].numpy() == pytest.approx([0.01, -0.01], abs=0.005)  # the points' signed distances


def test_the_fitted_body_raises_the_occupancy_inside_it_for_networks_that_read_the_body():
    import trimesh


    torch.manual_seed(0)
    frame = ball_frame()
    body = trimesh.creation.icosphere(subdivisions=4, radius=0.24)
    frame.body_vertices, frame.body_faces = body.vertices + CENTER, body.faces
    directions = np.random.default_rng(3).normal(size=(40, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    deep_inside = (CENTER + 0.1 * directions).astype(np.float32)  # 14 cm inside the body's surface
    outside = (CENTER + 0.36 * directions).astype(np.float32)  # 12 cm outside it

    def logit(values):
        return np.log(values / (1 - values))

    for config in (NetworkConfig(feature_channels=16, encoder_channels=16, hidden=32),
                   NetworkConfig(feature_channels=16, encoder_channels=16, hidden=32, body_sdf=True)):
        network = OccupancyNetwork(config).eval()
        raised = occupancy_function(network, encode_frame(network, frame))
        plain = occupancy_function(network, encode_frame(network, frame, body_prior=0.0))
        assert logit(raised(deep_inside)) - logit(plain(deep_inside)) == pytest.approx(np.full(40, BODY_PRIOR), abs=1e-3)
        assert raised(outside) == pytest.approx(plain(outside), abs=1e-6)
    # A network that does not read the body (ablation (b), image features only) gets no body prior either.
    image_only = OccupancyNetwork(NetworkConfig(feature_channels=16, encoder_channels=16, hidden=32,
                                                keypoint_encoding=False)).eval()
    encoded = encode_frame(image_only, frame)
    assert encoded.body_prior == 0 and encoded.body is None


def test_depth_band_cuts_along_a_smooth_surface_not_a_staircase_of_voxels():
    from humanvid.implicit.inference.meshing import evaluate_coarse_to_fine, extract_surface

    frame = small_body_frame()
    grid = frame_grid(frame, 96, 4)

    def front_roughness(ramp: float) -> float:
        """Std [m] of the cut face's depth about a smooth radial profile, in front of the body."""
        band = depth_band(frame, 0.05, ramp)
        volume, _ = evaluate_coarse_to_fine(banded(deep_ball, band), grid, 4, keep=frame_keep(frame, band))
        vertices = extract_surface(volume, grid).vertices
        radius = np.linalg.norm(vertices[:, :2] - CENTER[:2], axis=1)
        front = (radius < 0.1) & (vertices[:, 2] > CENTER[2] + 0.1)
        profile = np.stack([np.ones(front.sum()), radius[front] ** 2, radius[front] ** 4], axis=1)
        depth = vertices[front, 2]
        return float((depth - profile @ np.linalg.lstsq(profile, depth, rcond=None)[0]).std())

    soft, hard = front_roughness(grid.voxel), front_roughness(1e-6)  # as meshed; a cut without the ramp
    assert soft < 0.0016 < 0.002 < hard  # a hard cut steps by voxels (~9 mm here)

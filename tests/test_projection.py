"""The one pinhole projection: numpy and torch agree, a crop's camera sees the crop, depths are clamped."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from humanvid.camera import Camera
from humanvid.constants import MIN_DEPTH
from humanvid.projection import crop_camera, intrinsic_matrix, project, resized_affine, to_grid_coordinates
from preprocessing.crop import crop_affine, to_crop

INTRINSICS = np.array([800.0, 780.0, 399.5, 299.5])


def test_points_project_as_the_pinhole_formula_says():
    points = np.array([[0.0, 0.0, -2.0], [1.0, -1.0, -4.0], [-0.5, 0.25, -1.0]])
    pixels = project(points, intrinsic_matrix(100.0, 100.0, 50.0, 40.0))
    # u = cx + fx x / d, v = cy − fy y / d with d = −z (y up in the camera, down in the image).
    np.testing.assert_allclose(pixels, [[50.0, 40.0], [75.0, 65.0], [0.0, 15.0]])


def test_numpy_and_torch_agree_and_cameras_broadcast():
    rng = np.random.default_rng(0)
    points = rng.normal(0, 0.5, (3, 50, 3)) + [0.0, 0.0, -4.0]
    affines = np.stack([crop_affine(np.array([400.0 + 10 * i, 300.0]), 300.0 + 20 * i) for i in range(3)])
    cameras = crop_camera(np.broadcast_to(INTRINSICS, (3, 4)), affines)  # (3, 3, 3): one per batch row
    in_numpy = project(points, cameras)
    in_torch = project(torch.tensor(points), crop_camera(torch.tensor(INTRINSICS).expand(3, 4), torch.tensor(affines)))
    np.testing.assert_allclose(in_torch.numpy(), in_numpy, rtol=0, atol=1e-9)
    one_camera = project(points, intrinsic_matrix(*INTRINSICS))  # (3, 3): the same for every row
    np.testing.assert_allclose(one_camera[1], project(points[1], intrinsic_matrix(*INTRINSICS)))


def test_a_crops_camera_sees_the_crop_of_the_full_frame():
    rng = np.random.default_rng(1)
    points = rng.normal(0, 0.5, (40, 3)) + [0.2, 0.1, -3.0]
    affine = crop_affine(np.array([420.0, 280.0]), 350.0)
    full_frame = project(points, intrinsic_matrix(*INTRINSICS))
    np.testing.assert_allclose(project(points, crop_camera(INTRINSICS, affine)), to_crop(full_frame, affine), atol=1e-9)
    # The Camera of the crop is the same camera.
    cropped = Camera(*INTRINSICS, 800, 600).cropped(affine, 512)
    np.testing.assert_allclose(cropped.project(points)[0], to_crop(full_frame, affine), atol=1e-9)
    assert (cropped.width, cropped.height) == (512, 512)


def test_resized_affine_maps_pixels_as_cv2_resize_does():
    crop = np.zeros((512, 512), np.float32)
    crop[200:204, 300:304] = 1.0  # a 4×4 square centred on crop pixel (301.5, 201.5)
    small = cv2.resize(crop, (128, 128), interpolation=cv2.INTER_AREA)
    assert small[50, 75] == 1.0 and small.sum() == 1.0  # exactly one small pixel: (75, 50)
    affine = crop_affine(np.array([420.0, 280.0]), 350.0)
    frame_point = to_crop(np.array([[301.5, 201.5]]), np.linalg.inv(np.vstack([affine, [0, 0, 1]]))[:2])
    np.testing.assert_allclose(to_crop(frame_point, resized_affine(affine, 128, 512)), [[75.0, 50.0]], atol=1e-9)


def test_points_at_or_behind_the_camera_are_clamped_not_divided_by_zero():
    points = np.array([[0.1, 0.1, 0.0], [0.1, 0.1, 1.0], [0.1, 0.1, -MIN_DEPTH]])
    pixels = project(points, intrinsic_matrix(*INTRINSICS))
    assert np.isfinite(pixels).all()
    np.testing.assert_allclose(pixels[0], pixels[2])  # as if MIN_DEPTH in front
    np.testing.assert_allclose(pixels[1], pixels[2])
    assert torch.isfinite(project(torch.tensor(points), torch.tensor(intrinsic_matrix(*INTRINSICS)))).all()


def test_grid_coordinates_span_minus_one_to_one_over_pixel_centres():
    assert to_grid_coordinates(np.array([0.0, 511.0, 255.5]), 512) == pytest.approx([-1.0, 1.0, 0.0])

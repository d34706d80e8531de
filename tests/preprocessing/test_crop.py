"""Crop geometry: the affine, its scaled variants, and the warp."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from preprocessing.crop import CROP_SIZE, crop_affine, from_crop, scaled_affine, to_crop, warp


def test_affine_maps_box_to_crop():
    affine = crop_affine(np.array([400.0, 300.0]), 250.0)
    centre = to_crop(np.array([[400.0, 300.0]]), affine)[0]
    assert centre == pytest.approx([(CROP_SIZE - 1) / 2] * 2)
    corners = to_crop(np.array([[275.0, 175.0], [525.0, 425.0]]), affine)
    assert corners[1] - corners[0] == pytest.approx([CROP_SIZE, CROP_SIZE])


def test_scaled_affine_agrees_with_resized_image():
    image = np.zeros((400, 600), np.uint8)
    cv2.circle(image, (350, 180), 40, 255, -1)
    affine = crop_affine(np.array([350.0, 180.0]), 200.0)
    half = cv2.resize(image, (300, 200), interpolation=cv2.INTER_AREA)
    full_crop = warp(image, affine).astype(float)
    half_crop = warp(half, scaled_affine(affine, 0.5)).astype(float)
    assert np.abs(full_crop - half_crop).mean() < 3.0


def test_warp_pads_outside_with_black_and_antialiases():
    image = np.full((1000, 1000, 3), 200, np.uint8)
    image[::2] = 0  # one-pixel stripes: aliasing would show as strong bands
    affine = crop_affine(np.array([0.0, 500.0]), 2000.0)  # half the crop lies left of the frame
    crop = warp(image, affine)
    assert crop.shape == (CROP_SIZE, CROP_SIZE, 3)
    assert crop[:, :250].max() == 0 and crop[:120].max() == 0 and crop[390:].max() == 0
    inside = crop[140:370, 270:500].astype(float)  # where the frame lands (x ≥ 0, 0 ≤ y < 1000)
    assert abs(inside.mean() - 100) < 10 and inside.std() < 15


def test_points_of_many_frames_go_into_their_crops_and_back():
    rng = np.random.default_rng(0)
    affines = np.stack([crop_affine(np.array([640.0, 360.0]), 700.0), crop_affine(np.array([100.0, 900.0]), 250.0)])
    points = rng.uniform(0, 1280, (2, 33, 2))
    in_crop = to_crop(points, affines)
    np.testing.assert_allclose(in_crop[1], to_crop(points[1], affines[1]))  # each frame through its own affine
    np.testing.assert_allclose(in_crop[0], points[0] @ affines[0, :, :2].T + affines[0, :, 2])
    np.testing.assert_allclose(from_crop(in_crop, affines), points, atol=1e-6)

"""Mesh silhouettes in the crop agree with the analytic projection."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from humanvid.evaluation.silhouette import crop_intrinsics, mask_iou, rasterize_silhouette
from preprocessing.crop import crop_affine


def test_sphere_silhouette_is_the_projected_disk():
    intrinsics = np.array([800.0, 800.0, 639.5, 359.5])
    center = np.array([0.3, 0.1, -4.0])
    u = intrinsics[0] * center[0] / 4.0 + intrinsics[2]
    v = intrinsics[3] - intrinsics[1] * center[1] / 4.0
    affine = crop_affine(np.array([u, v]), 400.0)
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    silhouette = rasterize_silhouette(sphere.vertices + center, sphere.faces, crop_intrinsics(intrinsics, affine), 512)
    radius_px = 800 * 0.5 / np.sqrt(4.0**2 - 0.5**2) * 512 / 400  # tangent cone of the sphere
    yy, xx = np.mgrid[0:512, 0:512]
    disk = (xx - 255.5) ** 2 + (yy - 255.5) ** 2 < radius_px**2
    assert mask_iou(silhouette, disk) > 0.97


def test_iou():
    a = np.zeros((10, 10), bool)
    a[:5] = True
    b = np.zeros((10, 10), bool)
    b[:, :5] = True
    assert mask_iou(a, b) == pytest.approx(25 / 75)
    assert mask_iou(a, a) == 1.0

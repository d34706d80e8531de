"""Mesh silhouettes in the crop agree with the analytic projection."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from humanvid.evaluation.silhouette import mask_iou, rasterize_silhouette
from humanvid.projection import crop_camera
from preprocessing.crop import crop_affine


def test_sphere_silhouette_is_the_projected_disk():
    intrinsics = np.array([800.0, 800.0, 639.5, 359.5])
    center = np.array([0.3, 0.1, -4.0])
    u = intrinsics[0] * center[0] / 4.0 + intrinsics[2]
    v = intrinsics[3] - intrinsics[1] * center[1] / 4.0
    affine = crop_affine(np.array([u, v]), 400.0)
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    silhouette = rasterize_silhouette(sphere.vertices + center, sphere.faces, crop_camera(intrinsics, affine), 512)
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


@pytest.mark.parametrize("subdivisions", [1, 4])  # triangles larger and smaller than a pixel
def test_silhouette_marks_exactly_the_covered_pixel_centres(subdivisions):
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions, radius=0.5)
    vertices = sphere.vertices * [1.0, 1.6, 0.7] + [0.05, -0.02, -3.0]
    camera = np.array([[60.0, 0.0, 15.3], [0.0, 60.0, 16.7], [0.0, 0.0, 1.0]])
    silhouette = rasterize_silhouette(vertices, sphere.faces, camera, 32)
    depth = -vertices[:, 2]
    pixels = np.stack([vertices[:, 0] / depth, -vertices[:, 1] / depth, np.ones(len(depth))], 1) @ camera.T
    a, b, c = (pixels[sphere.faces][:, None, i, :2] for i in range(3))  # (F, 1, 2)
    yy, xx = np.mgrid[0:32, 0:32]
    centres = np.stack([xx.ravel(), yy.ravel()], 1)[None].astype(float)  # (1, P, 2)

    def edge(p, q, r):
        return (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0])

    sides = np.stack([edge(a, b, centres), edge(b, c, centres), edge(c, a, centres)])
    covered = ((sides >= 0).all(axis=0) | (sides <= 0).all(axis=0)).any(axis=0).reshape(32, 32)
    assert silhouette.sum() > 100 and not silhouette.all()
    assert (silhouette != covered).sum() <= 2  # rounding exactly on an edge may go either way


def test_a_huge_triangle_is_filled_only_on_the_canvas():
    vertices = np.array([[-50.0, -50.0, -1.0], [60.0, -50.0, -1.0], [0.0, 80.0, -1.0], [0.0, 0.0, -2.0]])
    faces = np.array([[0, 1, 2]])
    camera = np.array([[10.0, 0.0, 15.5], [0.0, 10.0, 15.5], [0.0, 0.0, 1.0]])
    silhouette = rasterize_silhouette(vertices, faces, camera, 32)  # spans ~1000 px around a 32-px canvas
    assert silhouette.all()

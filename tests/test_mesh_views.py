"""Clay views of meshes: real renders of simple shapes land where, and as large as, the cameras say."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from humanvid.camera import Camera
from humanvid.export.mesh_views import BACKGROUND, front_view, overlay, side_camera, side_view

FOCAL = 500.0


def square_camera(size: int = 200) -> Camera:
    return Camera(FOCAL, FOCAL, (size - 1) / 2.0, (size - 1) / 2.0, size, size)


def sphere(radius: float, centre) -> trimesh.Trimesh:
    mesh = trimesh.creation.icosphere(subdivisions=4, radius=radius)
    mesh.apply_translation(centre)
    return mesh


def centroid(coverage: np.ndarray) -> np.ndarray:
    """(x, y) pixel centroid of a coverage image."""
    rows, cols = np.indices(coverage.shape)
    return np.array([(cols * coverage).sum(), (rows * coverage).sum()]) / coverage.sum()


def extent(coverage: np.ndarray) -> tuple[int, int]:
    """Width and height [px] of the pixels at least half covered."""
    rows, cols = np.nonzero(coverage >= 0.5)
    return cols.max() - cols.min() + 1, rows.max() - rows.min() + 1


def test_front_view_of_a_sphere_is_a_centred_disc_of_the_projected_radius_on_a_clean_background():
    camera = square_camera()
    view = front_view(sphere(0.5, (0.0, 0.0, -5.0)), camera)
    expected_radius = FOCAL * 0.5 / math.sqrt(5.0**2 - 0.5**2)  # silhouette of a sphere under perspective
    assert math.sqrt(view.coverage.sum() / math.pi) == pytest.approx(expected_radius, abs=0.5)
    np.testing.assert_allclose(centroid(view.coverage), [camera.cx, camera.cy], atol=0.2)
    image = view.image()
    assert image.shape == (200, 200, 3) and image.dtype == np.uint8
    assert np.all(image[view.coverage == 0] == BACKGROUND)
    inside = image[view.coverage == 1][:, 0]
    assert 40 < inside.min() and inside.max() < 240 and inside.std() > 10  # shaded, not a flat cut-out


def test_crop_camera_sees_the_crop_of_the_full_frame():
    full = Camera(FOCAL, FOCAL, 319.5, 239.5, 640, 480)
    centre = (0.6, -0.3, -5.0)
    pixel, _ = full.project(np.array([centre]))
    scale = 2.0
    affine = np.array([[scale, 0.0, 64.0 - scale * pixel[0, 0]], [0.0, scale, 64.0 - scale * pixel[0, 1]]])
    camera = full.cropped(affine, size=128)
    view = front_view(sphere(0.25, centre), camera)
    np.testing.assert_allclose(centroid(view.coverage), [64.0, 64.0], atol=0.5)
    expected_radius = scale * FOCAL * 0.25 / 5.0
    assert math.sqrt(view.coverage.sum() / math.pi) == pytest.approx(expected_radius, rel=0.03)
    half = camera.resized(0.5)
    np.testing.assert_allclose(centroid(front_view(sphere(0.25, centre), half).coverage), [31.75, 31.75], atol=0.5)
    with pytest.raises(ValueError):
        full.cropped(np.array([[1.0, 0.1, 0.0], [0.0, 1.0, 0.0]]), size=128)


def test_side_view_of_a_box_long_along_x_is_narrow_and_as_tall():
    camera = square_camera()
    box = trimesh.creation.box(extents=(1.0, 0.2, 0.2))
    box.apply_translation((0.1, 0.05, -5.0))
    front, side = front_view(box, camera), side_view(box, camera)
    front_width, front_height = extent(front.coverage)
    side_width, side_height = extent(side.coverage)
    assert front_width == pytest.approx(FOCAL * 1.0 / 4.9, abs=3)
    assert side_width < 0.3 * front_width
    assert side_height == pytest.approx(front_height, abs=4)  # same distance and focal: same scale
    np.testing.assert_allclose(centroid(side.coverage), [camera.cx, camera.cy], atol=1.0)
    assert np.all(side.image()[side.coverage == 0] == BACKGROUND)


def test_side_view_turns_what_faced_the_camera_to_the_right():
    camera = square_camera()
    head = sphere(0.3, (0.0, 0.0, -5.0))
    nose = sphere(0.08, (0.0, 0.45, -4.6))  # above the head and towards the camera: the topmost pixels
    mesh = trimesh.util.concatenate([head, nose])
    for degrees, side in ((90.0, 1.0), (-90.0, -1.0)):
        coverage = side_view(mesh, camera, degrees=degrees).coverage
        rows, cols = np.nonzero(coverage >= 0.5)
        nose_column = cols[rows == rows.min()].mean()
        assert side * (nose_column - centroid(coverage)[0]) > 10


def test_side_camera_zooms_out_only_when_the_turned_mesh_would_not_fit():
    camera = square_camera()
    rod = trimesh.creation.box(extents=(0.1, 0.1, 3.0))  # long in depth: wide once turned
    rod.apply_translation((0.0, 0.0, -6.0))
    assert side_camera(rod, camera).fx < 0.8 * FOCAL
    view = side_view(rod, camera)
    assert view.coverage[:, :3].max() == 0 and view.coverage[:, -3:].max() == 0
    assert extent(view.coverage)[0] > 0.85 * camera.width
    ball = sphere(0.3, (0.0, 0.0, -5.0))
    assert side_camera(ball, camera).fx == FOCAL


def test_overlay_changes_only_the_covered_pixels():
    camera = square_camera(120)
    view = front_view(sphere(0.4, (0.0, 0.0, -5.0)), camera)
    image = np.random.default_rng(0).integers(0, 256, (120, 120, 3), dtype=np.uint8)
    drawn = overlay(image, view)
    assert np.array_equal(drawn[view.coverage == 0], image[view.coverage == 0])
    assert np.abs(drawn[view.coverage == 1].astype(int) - image[view.coverage == 1]).mean() > 20

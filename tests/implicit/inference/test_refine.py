"""The per-frame refinement of a posed canonical mesh: what the frame's occupancy and mask move, and what not."""

import numpy as np
import pytest
import trimesh

from humanvid.implicit.inference.refine import STEP, STEPS, Refiner, Silhouette, surface_offsets

CENTRE = np.array([0.0, 0.0, -3.0])  # the sphere's centre, 3 m in front of the camera
FOCAL, SIZE = 400.0, 256
CAMERA = np.array([[FOCAL, 0.0, SIZE / 2], [0.0, FOCAL, SIZE / 2], [0.0, 0.0, 1.0]])


def sphere(radius: float) -> trimesh.Trimesh:
    mesh = trimesh.creation.icosphere(subdivisions=4, radius=radius)
    mesh.apply_translation(CENTRE)
    return mesh


def ball_occupancy(radius: float):
    return lambda points: (np.linalg.norm(points - CENTRE, axis=1) < radius).astype(np.float32)


def disc_mask(radius: float) -> np.ndarray:
    """The mask of a ball of `radius` [m] at CENTRE through CAMERA (its outline, to within a pixel)."""
    rows, columns = np.mgrid[:SIZE, :SIZE]
    pixels = radius * FOCAL / np.sqrt(CENTRE[2] ** 2 - radius**2)
    return np.where(np.hypot(columns - SIZE / 2, rows - SIZE / 2) < pixels, 255, 0).astype(np.uint8)


def facing(mesh: trimesh.Trimesh) -> np.ndarray:
    """(V,) cosine between each vertex normal and the ray to the camera."""
    towards = -mesh.vertices / np.linalg.norm(mesh.vertices, axis=1, keepdims=True)
    return np.einsum("ij,ij->i", mesh.vertex_normals, towards)


def radial_change(mesh: trimesh.Trimesh, moved: np.ndarray) -> np.ndarray:
    return np.linalg.norm(moved - CENTRE, axis=1) - np.linalg.norm(mesh.vertices - CENTRE, axis=1)


def test_surface_offsets_find_where_the_occupancy_crosses_one_half():
    mesh = sphere(0.30)
    occupancy = lambda points: np.clip(0.5 + (0.32 - np.linalg.norm(points - CENTRE, axis=1)) / 0.02, 0, 1)
    offsets = surface_offsets(mesh.vertices, mesh.vertex_normals, occupancy)
    assert offsets == pytest.approx(np.full(len(offsets), 0.02), abs=2e-3)
    far = surface_offsets(mesh.vertices, mesh.vertex_normals, ball_occupancy(0.5))  # beyond the samples: clamped
    assert far == pytest.approx(np.full(len(far), STEPS * STEP))


def test_the_frame_moves_what_it_sees_and_leaves_the_back_alone():
    mesh = sphere(0.30)
    moved = Refiner(mesh.vertices, mesh.faces)(mesh.vertices, ball_occupancy(0.33))
    change, cosine = radial_change(mesh, moved), facing(mesh)
    assert change[cosine > 0.6].mean() == pytest.approx(0.03, abs=5e-3)
    assert np.abs(change[cosine < -0.6]).max() < 2e-3
    assert len(moved) == len(mesh.vertices)


def test_rim_vertices_are_drawn_onto_the_masks_outline():
    mesh = sphere(0.30)  # the frame's network agrees with the mesh; its mask says the person is wider
    silhouette = Silhouette.of(disc_mask(0.33), CAMERA)
    refiner = Refiner(mesh.vertices, mesh.faces)
    moved = refiner(mesh.vertices, ball_occupancy(0.30), silhouette)
    change, cosine = radial_change(mesh, moved), facing(mesh)
    rim = np.abs(cosine) < 0.05
    assert change[rim].mean() == pytest.approx(0.03, abs=0.01)
    assert np.abs(change[cosine > 0.6]).max() < 5e-3
    refiner.previous = None
    unmoved = refiner(mesh.vertices, ball_occupancy(0.30), Silhouette.of(disc_mask(0.30), CAMERA))
    assert np.abs(radial_change(mesh, unmoved)).max() < 5e-3  # the mask agrees: nothing moves


def test_a_rim_deep_inside_the_mask_is_not_taken_for_the_outline():
    mesh = sphere(0.30)  # an arm in front of the torso: the mask reaches far beyond its rim
    moved = Refiner(mesh.vertices, mesh.faces)(mesh.vertices, ball_occupancy(0.30),
                                               Silhouette.of(disc_mask(0.80), CAMERA))
    assert np.abs(radial_change(mesh, moved)).max() < 5e-3


def test_offsets_are_smoothed_over_time():
    mesh = sphere(0.30)
    refiner = Refiner(mesh.vertices, mesh.faces)
    first = refiner(mesh.vertices, ball_occupancy(0.33))
    second = refiner(mesh.vertices, ball_occupancy(0.30))  # the next frame says: no change
    front = facing(mesh) > 0.6
    assert 0.0 < radial_change(mesh, second)[front].mean() < radial_change(mesh, first)[front].mean()

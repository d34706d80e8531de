"""The per-frame refinement of a posed canonical mesh: what the frame's occupancy and mask move, and what not."""

import numpy as np
import pytest
import trimesh

from humanvid.implicit.inference.refine import (STEP, STEPS, TEMPORAL_WEIGHTS, Refiner, Silhouette, smoothed_over_time,
                                                surface_offsets)

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


def refined(mesh: trimesh.Trimesh, occupancy, silhouette=None, kept=None) -> np.ndarray:
    refiner = Refiner(mesh.vertices, mesh.faces, kept=kept)
    return refiner.moved(mesh.vertices, refiner.offsets(mesh.vertices, refiner.evidence(mesh.vertices, occupancy),
                                                        silhouette))


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
    moved = refined(mesh, ball_occupancy(0.33))
    change, cosine = radial_change(mesh, moved), facing(mesh)
    assert change[cosine > 0.6].mean() == pytest.approx(0.03, abs=5e-3)
    assert np.abs(change[cosine < -0.6]).max() < 2e-3
    assert len(moved) == len(mesh.vertices)


def test_kept_vertices_ignore_the_occupancy_but_follow_the_masks_outline():
    mesh = sphere(0.30)  # the frame's network and its mask both say the person is wider
    kept = (mesh.vertices[:, 0] > CENTRE[0]).astype(float)  # the right half (a hand) is kept
    silhouette = Silhouette.of(disc_mask(0.33), CAMERA)
    moved = refined(mesh, ball_occupancy(0.33), silhouette, kept=kept)
    change, cosine = radial_change(mesh, moved), facing(mesh)
    inner = mesh.vertices[:, 0] > CENTRE[0] + 0.12  # beyond the surface smoothing's reach from the free half
    assert np.abs(change[inner & (cosine > 0.6)]).max() < 1e-9  # the occupancy does not move a kept vertex
    assert change[inner & (np.abs(cosine) < 0.05)].mean() == pytest.approx(0.03, abs=0.01)  # the outline does
    assert change[(kept == 0) & (cosine > 0.6)].mean() == pytest.approx(0.03, abs=5e-3)


def test_rim_vertices_are_drawn_onto_the_masks_outline():
    mesh = sphere(0.30)  # the frame's network agrees with the mesh; its mask says the person is wider
    silhouette = Silhouette.of(disc_mask(0.33), CAMERA)
    moved = refined(mesh, ball_occupancy(0.30), silhouette)
    change, cosine = radial_change(mesh, moved), facing(mesh)
    rim = np.abs(cosine) < 0.05
    assert change[rim].mean() == pytest.approx(0.03, abs=0.01)
    assert np.abs(change[cosine > 0.6]).max() < 5e-3
    unmoved = refined(mesh, ball_occupancy(0.30), Silhouette.of(disc_mask(0.30), CAMERA))
    assert np.abs(radial_change(mesh, unmoved)).max() < 5e-3  # the mask agrees: nothing moves


def test_a_rim_deep_inside_the_mask_is_not_taken_for_the_outline():
    mesh = sphere(0.30)  # an arm in front of the torso: the mask reaches far beyond its rim
    moved = refined(mesh, ball_occupancy(0.30), Silhouette.of(disc_mask(0.80), CAMERA))
    assert np.abs(radial_change(mesh, moved)).max() < 5e-3


def test_offsets_are_averaged_with_the_neighbouring_frames_and_a_resumed_run_gets_the_same():
    available = [0, 1, 2, 3, 5, 6]  # frame row 4 has no person
    raw = {row: np.full(3, float(row * row)) for row in available}
    asked = []

    def offsets_of(row):
        asked.append(row)
        return raw[row]

    smoothed = dict(smoothed_over_time(available, available, offsets_of))
    assert sorted(asked) == available  # each frame's evidence is read once
    side, middle = TEMPORAL_WEIGHTS[0], TEMPORAL_WEIGHTS[1]
    assert smoothed[2] == pytest.approx(side * raw[1] + middle * raw[2] + side * raw[3])
    assert smoothed[5] == pytest.approx(side * raw[3] + middle * raw[5] + side * raw[6])  # neighbours among the meshed
    assert smoothed[0] == pytest.approx((middle * raw[0] + side * raw[1]) / (middle + side))  # renormalised at the end
    resumed = dict(smoothed_over_time([3, 6], available, lambda row: raw[row]))
    assert all(np.array_equal(resumed[row], smoothed[row]) for row in (3, 6))

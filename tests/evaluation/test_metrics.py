"""Metrics with analytic answers."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from humanvid.evaluation.metrics import (
    acceleration_error,
    best_depth_scale,
    chamfer_distance,
    closest_points,
    excess_surface_change,
    mpjpe,
    pa_mpjpe,
    procrustes_align,
    surface_index,
    surface_metrics,
)


def _sphere(radius, subdivisions=5, centre=(0.0, 0.0, 0.0)):
    mesh = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    mesh.apply_translation(centre)
    return mesh


def test_concentric_spheres_chamfer_is_radius_difference():
    inner, outer = _sphere(0.50), _sphere(0.53)
    metrics = surface_metrics(outer, inner, count=4000)
    # the two meshes are scaled copies: face planes are (radius × cos θ) from the centre, θ ≈ 0.02 rad
    assert metrics.chamfer_cm == pytest.approx(3.0, rel=2e-3)
    assert metrics.p2s_cm == pytest.approx(3.0, rel=2e-3)
    assert metrics.p2s_reverse_cm == pytest.approx(3.0, rel=2e-3)
    assert metrics.normal_consistency == pytest.approx(1.0, abs=1e-3)


def test_identical_meshes_score_zero():
    mesh = _sphere(0.4, 3)
    metrics = surface_metrics(mesh, mesh.copy(), count=2000)
    assert metrics.chamfer_cm == pytest.approx(0.0, abs=1e-4)  # 1 µm: float round-off
    assert metrics.normal_consistency == pytest.approx(1.0, abs=1e-4)  # ties on shared edges


def test_shifted_box_distances():
    """A 1 m cube shifted by 2 cm along x: points on the ±x faces are 2 cm off, the others on the
    y/z faces lie 0 away except the strip that overhangs the cube (2 % of their area)."""
    gt = trimesh.creation.box(extents=[1.0, 1.0, 1.0])
    pred = gt.copy()
    pred.apply_translation([0.02, 0.0, 0.0])
    metrics = surface_metrics(pred, gt, count=20000)
    # GT samples: the two x faces (1/3 of the area) are 2 cm away; of the four other faces, the strip of
    # width 2 cm beyond the shifted cube is on average 1 cm away (0.02 of that area): 2/3 × 0.02 × 1 cm
    expected = (1 / 3) * 2.0 + (2 / 3) * 0.02 * 1.0
    assert metrics.p2s_cm == pytest.approx(expected, rel=0.05)
    assert metrics.chamfer_cm == pytest.approx(expected, rel=0.05)
    # only samples within 2 cm of an edge find a perpendicular face closest (at most ~4 % of them)
    assert 0.96 < metrics.normal_consistency < 0.99


def test_closest_points_are_exact_on_a_coarse_mesh():
    """Few large triangles: the distance to the surface, not to its samples."""
    box = trimesh.creation.box(extents=[2.0, 2.0, 2.0])
    index = surface_index(box, dense=200)
    points = np.array([[0.0, 0.0, 1.5], [0.3, -0.2, 1.01], [1.5, 1.5, 0.0], [0.0, 0.0, 0.2]])
    closest, distances, _ = closest_points(index, points)
    assert np.allclose(distances, [0.5, 0.01, np.sqrt(0.5), 0.8])
    assert np.allclose(closest[0], [0.0, 0.0, 1.0])


def test_chamfer_is_symmetric_in_arguments():
    a, b = _sphere(0.5, 4), _sphere(0.5, 4, centre=(0.03, 0.0, 0.0))
    assert chamfer_distance(a, b, 3000) == pytest.approx(chamfer_distance(b, a, 3000), rel=0.05)


def _skeleton(joints=17, seed=0):
    return np.random.default_rng(seed).normal(scale=0.3, size=(joints, 3))


def test_mpjpe_of_a_translation():
    gt = _skeleton()
    assert mpjpe(gt + np.array([0.0, 0.03, 0.04]), gt) == pytest.approx(50.0)
    valid = np.zeros(len(gt), bool)
    valid[:3] = True
    pred = gt.copy()
    pred[3:] += 1.0  # invalid joints do not count
    assert mpjpe(pred, gt, valid) == pytest.approx(0.0)


def test_pa_mpjpe_removes_rotation_scale_translation():
    gt = _skeleton()
    rotation = Rotation.from_euler("xyz", [30, -50, 110], degrees=True).as_matrix()
    pred = 1.7 * gt @ rotation.T + np.array([0.5, -1.0, 3.0])
    assert mpjpe(pred, gt) > 100.0
    assert pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(procrustes_align(pred, gt), gt)
    sequence = np.stack([pred, gt, 0.5 * gt])
    assert pa_mpjpe(sequence, np.stack([gt, gt, gt])) == pytest.approx(0.0, abs=1e-9)


def test_pa_mpjpe_does_not_reflect():
    gt = _skeleton()
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    assert pa_mpjpe(mirrored, gt) > 10.0


def test_acceleration_error():
    gt = np.stack([_skeleton() + t * np.array([0.01, 0.0, 0.02]) for t in range(10)])  # constant velocity
    assert acceleration_error(gt, gt) == pytest.approx(0.0)
    other_velocity = np.stack([_skeleton() + t * np.array([0.0, 0.05, 0.0]) for t in range(10)])
    assert acceleration_error(other_velocity, gt) == pytest.approx(0.0, abs=1e-9)
    jitter = gt.copy()
    jitter[5] += np.array([0.0, 0.0, 0.001])  # 1 mm bump → accelerations of 1, 2, 1 mm/frame² at t = 4, 5, 6
    assert acceleration_error(jitter, gt) == pytest.approx((1 + 2 + 1) / 8)


def test_excess_surface_change():
    sphere = _sphere(0.5, 3)
    static = [sphere] * 4
    assert excess_surface_change(static, static, count=1000)[0] == pytest.approx(0.0, abs=1e-4)
    moving = [_sphere(0.5, 3, centre=(0.0, 0.0, 0.0)), _sphere(0.5, 3, centre=(0.0, 0.0, 0.0))]
    jitter = [_sphere(0.5, 3), _sphere(0.52, 3)]  # grows 2 cm between frames while the truth stays
    excess, pred_change, gt_change = excess_surface_change(jitter, moving, count=2000)
    assert excess == pytest.approx(2.0, rel=0.01)
    assert gt_change[0] == pytest.approx(0.0, abs=1e-4)
    assert pred_change[0] == pytest.approx(2.0, rel=0.01)
    # moving exactly like the truth is no excess, and moving less is not rewarded below 0
    assert excess_surface_change(jitter, jitter, count=2000)[0] == pytest.approx(0.0, abs=1e-4)
    assert excess_surface_change(static[:2], jitter, count=2000)[0] == pytest.approx(0.0, abs=1e-4)


def test_normal_image_error():
    from humanvid.evaluation.metrics import normal_image_error

    sphere = _sphere(0.5, 4)
    assert normal_image_error(sphere, sphere.copy(), size=128) == pytest.approx(0.0, abs=1e-9)
    shifted = _sphere(0.5, 4, centre=(0.1, 0.0, 0.0))
    box = trimesh.creation.box(extents=[0.8, 0.8, 0.8])
    small, large = normal_image_error(shifted, sphere, size=128), normal_image_error(box, sphere, size=128)
    assert 0.0 < small < large <= 4.0
    # a surface missing entirely: every covered pixel differs by a unit normal
    far = _sphere(0.5, 4, centre=(0.0, 50.0, 0.0))  # far above: out of every view
    assert normal_image_error(far, sphere, size=128) == pytest.approx(1.0)


def test_best_depth_scale_undoes_a_size_and_distance_error():
    truth = _sphere(0.3, centre=(0.2, -0.1, -3.0))
    pred = truth.copy()
    pred.apply_scale(1.15)  # 15 % too large and 15 % too far: the same projection
    points = lambda mesh, seed: trimesh.sample.sample_surface(mesh, 5000, seed=seed)[0]  # noqa: E731
    scale = best_depth_scale(points(pred, 0), points(truth, 1))
    assert scale == pytest.approx(1 / 1.15, rel=0.01)
    assert best_depth_scale(points(truth, 0), points(truth, 1)) == pytest.approx(1.0, rel=0.01)

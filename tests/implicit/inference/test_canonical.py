"""The canonical person on analytic scenes: one rigid "body" (a single bone) seen by views whose fields
are known, so what fusion must give is known too."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

from humanvid.implicit.inference.avatar import build_avatar, choose_keyframes
from humanvid.implicit.inference.canonical import (CanonicalSettings, RestBody, View, canonical_occupancy,
                                                   outside_distance)
from humanvid.implicit.inference.fusion import VolumeField
from humanvid.implicit.inference.meshing import evaluate_coarse_to_fine, grid_around
from humanvid.implicit.inference.posing import Skin
from humanvid.implicit.inference.skin_field import SkinField
from humanvid.projection import crop_camera, project
from preprocessing.crop import crop_affine

RADII = np.array([0.25, 0.45, 0.15])  # an ellipsoid "person", 0.9 m tall, 0.3 m deep
DISTANCE = 3.0
INTRINSICS = np.array([800.0, 800.0, 399.5, 399.5])


def ellipsoid_inside(points: np.ndarray) -> np.ndarray:
    return ((points / RADII) ** 2).sum(axis=1) < 1.0


def rest_body() -> RestBody:
    sphere = trimesh.creation.icosphere(subdivisions=3)
    vertices = np.asarray(sphere.vertices) * RADII * 0.8  # a "body" inside the clothes
    ones = np.ones((len(vertices), 1))
    return RestBody(vertices, np.asarray(sphere.faces), np.zeros((len(vertices), 1), np.int64), ones)


def pose(yaw_deg: float) -> np.ndarray:
    """(1, 4, 4): the rest body turned by `yaw_deg` about the vertical and put DISTANCE in front of the camera."""
    a = np.radians(yaw_deg)
    transform = np.eye(4)
    transform[:3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    transform[:3, 3] = [0.0, 0.0, -DISTANCE]
    return transform[None]


def view(yaw_deg: float, field: str = "true") -> View:
    return copy.copy(_view(yaw_deg, field))


@functools.lru_cache(maxsize=None)
def _view(yaw_deg: float, field: str) -> View:
    """A view of the ellipsoid turned by `yaw_deg`: its mask, and a field that is the truth ("true"), or the
    truth's silhouette extruded behind its front surface ("slab": what a single view cannot tell apart)."""
    bones = pose(yaw_deg)
    inverse = np.linalg.inv(bones[0])
    affine = crop_affine(np.array([399.5, 399.5]), 2.2 * 800 * RADII[1] / DISTANCE * 1.3)
    camera = crop_camera(INTRINSICS, affine)
    # the mask: the posed ellipsoid's projection, from points on its surface
    surface = trimesh.creation.icosphere(subdivisions=4).vertices * RADII
    posed_surface = surface @ bones[0][:3, :3].T + bones[0][:3, 3]
    pixels = np.round(project(posed_surface, camera)).astype(int)
    mask = np.zeros((512, 512), np.uint8)
    hull = cv2_hull(pixels)
    mask[hull] = 255
    grid = grid_around(np.array([-0.6, -0.7, -DISTANCE - 0.6]), np.array([0.6, 0.7, -DISTANCE + 0.6]), 64, 4)
    index = np.stack(np.meshgrid(*[np.arange(n) for n in grid.shape], indexing="ij"), -1).reshape(-1, 3)
    points = grid.points(index).astype(np.float64)
    rest_points = points @ inverse[:3, :3].T + inverse[:3, 3]
    inside = ellipsoid_inside(rest_points)
    if field == "slab":  # everything behind the visible surface along each ray is filled
        towards_camera = -points / np.linalg.norm(points, axis=1, keepdims=True)
        for step in np.arange(0.0, 0.6, 0.015):  # the ellipsoid is at most 0.5 m deep along a ray
            ahead = points + step * towards_camera
            inside |= ellipsoid_inside(ahead @ inverse[:3, :3].T + inverse[:3, 3])
    volume = inside.reshape(grid.shape).astype(np.float32)
    return View(VolumeField(volume, grid), bones, camera, outside_distance(mask))


def cv2_hull(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    canvas = np.zeros((512, 512), np.uint8)
    cv2.fillPoly(canvas, [cv2.convexHull(pixels.astype(np.int32))], 1)
    return np.nonzero(canvas)


def canonical_volume(views: list[View], settings=CanonicalSettings(reach=1.0, fade=0.9)):
    rest = rest_body()
    field = SkinField.around(rest.vertices, rest.bone_indices, rest.bone_weights, 1, np.full(3, -0.7), np.full(3, 0.7))
    grid = grid_around(np.full(3, -0.6), np.full(3, 0.6), 64, 4)
    volume, _ = evaluate_coarse_to_fine(canonical_occupancy(rest, field, views, settings), grid, 4)
    index = np.stack(np.meshgrid(*[np.arange(n) for n in grid.shape], indexing="ij"), -1).reshape(-1, 3)
    return volume.reshape(-1) > 0.5, ellipsoid_inside(grid.points(index).astype(np.float64))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_a_static_scene_gives_the_shape_of_one_frame():
    one, _ = canonical_volume([view(30.0, "slab")])
    many, _ = canonical_volume([view(30.0, "slab")] * 4)
    assert np.array_equal(one, many)


def test_a_body_turning_in_front_of_the_camera_gives_one_shape_that_matches_it():
    # Each view alone only knows its silhouette: its field is a slab reaching far behind the body.
    alone, truth = canonical_volume([view(0.0, "slab")])
    turning, _ = canonical_volume([view(yaw, "slab") for yaw in range(0, 360, 45)])
    assert iou(alone, truth) < 0.7  # one view: a fin behind the body
    assert iou(turning, truth) > 0.85  # the turn carves it down to the body


def test_a_point_outside_a_frames_mask_is_carved():
    # Two views whose fields say "occupied everywhere"; the third sees the point outside its mask.
    rest = rest_body()
    field = SkinField.around(rest.vertices, rest.bone_indices, rest.bone_weights, 1, np.full(3, -0.7), np.full(3, 0.7))
    seeing = [view(0.0), view(180.0), view(90.0)]  # from the front, the back, the side
    for v in seeing[:2]:
        v.field = VolumeField(np.ones_like(v.field.volume), v.field.grid)
    point = np.array([[0.0, 0.0, 0.3]])  # in front of the ellipsoid (0.15 deep): inside the front and back masks
    settings = CanonicalSettings(reach=1.0, fade=0.9)
    assert canonical_occupancy(rest, field, seeing[:2], settings)(point)[0] > 0.5
    assert canonical_occupancy(rest, field, seeing, settings)(point)[0] == 0.0


def test_a_hand_the_views_lose_is_kept_where_they_see_it_and_dropped_where_they_do_not():
    # The whole rest body is a "hand" (bone 0), thinner than any view's field resolves: the fields are empty.
    body = rest_body()
    hand = RestBody(body.vertices, body.faces, body.bone_indices, body.bone_weights, np.array([0]))
    field = SkinField.around(hand.vertices, hand.bone_indices, hand.bone_weights, 1, np.full(3, -0.7), np.full(3, 0.7))
    empty = [view(0.0), view(90.0), view(180.0)]
    for v in empty:
        v.field = VolumeField(np.zeros_like(v.field.volume), v.field.grid)
    settings = CanonicalSettings(reach=1.0, fade=0.9)
    inside, outside = np.array([[0.0, 0.0, 0.0]]), np.array([[0.0, 0.0, 0.2]])  # the body reaches 0.12 in z
    assert canonical_occupancy(body, field, empty, settings)(inside)[0] == 0.0  # no hand: the views' word
    assert canonical_occupancy(hand, field, empty, settings)(inside)[0] == 1.0
    assert canonical_occupancy(hand, field, empty, settings)(outside)[0] == 0.0
    # two of three views see nothing there (their masks are empty): the hand is not taken
    blind = [view(0.0), view(90.0)]
    for v in blind:
        v.outside = outside_distance(np.zeros_like(v.outside, np.uint8))
    assert canonical_occupancy(hand, field, empty[:1] + blind, settings)(inside)[0] == 0.0


def test_a_view_that_squeezes_a_point_against_the_body_barely_counts():
    # Two bones: a "torso" sphere and an "arm" sphere beside it, with a gap between them at rest.
    torso = trimesh.creation.icosphere(subdivisions=2, radius=0.1)
    vertices = np.vstack([torso.vertices, torso.vertices + [0.5, 0.0, 0.0]])
    faces = np.vstack([torso.faces, torso.faces + len(torso.vertices)])
    bones = np.repeat([[0], [1]], len(torso.vertices), axis=0)
    rest = RestBody(vertices, faces, bones, np.ones((len(vertices), 1)))
    field = SkinField.around(vertices, bones, rest.bone_weights, 2, np.full(3, -0.8), np.full(3, 0.8))

    def posed_view(arm_shift: float, occupancy: float) -> View:
        seen = view(0.0)
        transforms = np.repeat(pose(0.0), 2, axis=0)
        transforms[1, 0, 3] += arm_shift
        seen.bone_transforms = transforms
        seen.field = VolumeField(np.full_like(seen.field.volume, occupancy), seen.field.grid)
        seen.outside = np.zeros_like(seen.outside)  # all of the crop is person: nothing is carved
        return seen

    together = [posed_view(-0.3, 1.0)] * 3  # the arm against the torso: the gap shut, seen occupied
    apart = [posed_view(0.0, 0.0)]  # the gap open: seen empty
    gap = np.array([[0.25, 0.0, 0.0]])
    settings = CanonicalSettings(reach=1.0, fade=0.9)
    trusting = CanonicalSettings(reach=1.0, fade=0.9, squeezed_weight=1.0)
    assert canonical_occupancy(rest, field, together + apart, trusting)(gap)[0] > 0.5  # a web
    assert canonical_occupancy(rest, field, together + apart, settings)(gap)[0] < 0.5
    assert canonical_occupancy(rest, field, together, settings)(gap)[0] > 0.5  # no view keeps it apart


def test_nothing_far_from_the_body_is_occupied():
    rest = rest_body()
    field = SkinField.around(rest.vertices, rest.bone_indices, rest.bone_weights, 1, np.full(3, -0.8), np.full(3, 0.8))
    everywhere = view(0.0)
    everywhere.field = VolumeField(np.ones_like(everywhere.field.volume), everywhere.field.grid)
    settings = CanonicalSettings(carve_fraction=1.0)
    far = np.array([[0.0, 0.0, 0.12 + settings.reach]])  # the body reaches 0.12 m in z
    assert canonical_occupancy(rest, field, [everywhere], settings)(far)[0] == 0.0


def test_the_avatar_is_watertight_and_its_skinning_weights_sum_to_one():
    rest = rest_body()
    avatar = build_avatar(rest, [view(yaw, "slab") for yaw in range(0, 360, 90)], 1, resolution=48,
                          settings=CanonicalSettings(reach=0.5, fade=0.4))
    assert avatar.mesh.is_watertight and len(avatar.mesh.faces) > 100
    np.testing.assert_allclose(avatar.skin.bone_weights.sum(axis=1), 1.0, atol=1e-6)
    posed = avatar.posed(pose(90.0))
    turned = np.asarray(avatar.mesh.vertices) @ pose(90.0)[0][:3, :3].T + pose(90.0)[0][:3, 3]
    np.testing.assert_allclose(posed, turned, atol=1e-9)  # one bone: posing is that bone's rigid motion
    distances = cKDTree(trimesh.creation.icosphere(subdivisions=4).vertices * RADII).query(avatar.mesh.vertices)[0]
    assert np.median(distances) < 0.03


def test_skin_weights_far_from_the_body_blend_the_bones_on_either_side():
    # Two "legs" 0.3 m apart, each its own bone: a point midway takes both, a point on a leg its own.
    legs = np.concatenate([trimesh.creation.icosphere(2).vertices * 0.05 + [x, 0, 0] for x in (-0.15, 0.15)])
    indices = np.repeat([[0], [1]], len(legs) // 2, axis=0)
    field = SkinField.around(legs, indices, np.ones((len(legs), 1)), 2, np.full(3, -0.5), np.full(3, 0.5))
    midway, on_left = field.weights_at(np.array([[0.0, 0.0, 0.0], [-0.15, 0.05, 0.0]]))
    assert midway == pytest.approx([0.5, 0.5], abs=0.05)
    assert on_left[0] > 0.95
    skin = Skin.of(np.array([[0.0, 0.0, 0.0]]), field, influences=2)
    assert skin.bone_weights.sum() == pytest.approx(1.0)


def test_keyframes_spread_over_the_video():
    assert choose_keyframes(list(range(5)), 16) == [0, 1, 2, 3, 4]
    picked = choose_keyframes(list(range(0, 300, 3)), 4)
    assert picked[0] == 0 and picked[-1] == 297 and len(picked) == 4

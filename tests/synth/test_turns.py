"""Turning clips: the facing measure, and how far each clip kind turns."""

from __future__ import annotations

import numpy as np
import pytest

from humanvid.synth.dataset import AnnyMediapipeKeypoints
from humanvid.synth.facing import camera_to_world, facing_yaw, yaw_range_deg
from humanvid.synth.person import make_person
from humanvid.synth.turns import STEADY_KINDS, TURNING_KINDS, sample_turn_family_clip


@pytest.fixture(scope="module")
def keypoints(rig):
    return AnnyMediapipeKeypoints.from_rig(rig)


def clip_yaw_range(rig, space, keypoints, motion: str, frames: int) -> float:
    person = make_person(rig, space, 5, frames=frames, motion=motion)
    posed = person.posed
    return yaw_range_deg(np.stack([keypoints(posed.vertices[f], posed.bone_poses[f]) for f in range(frames)]))


def test_facing_yaw_of_turned_landmarks():
    landmarks = np.zeros((33, 3))
    landmarks[[11, 23]] = [0.2, 0.0, 1.0]  # the person's left is +x: facing −y, yaw 0
    landmarks[[12, 24]] = [-0.2, 0.0, 1.0]
    turns = np.radians([0.0, 100.0, 200.0, 300.0])
    frames = []
    for yaw in turns:
        c, s = np.cos(yaw), np.sin(yaw)
        frames.append(landmarks @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T)
    assert np.allclose(facing_yaw(np.stack(frames)), turns)
    assert yaw_range_deg(np.stack(frames)) == pytest.approx(300.0)
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = [[1, 0, 0], [0, 0, 1], [0, -1, 0]]  # z up → camera y up
    world_to_camera[:3, 3] = [0.1, -1.0, -3.0]
    camera = landmarks @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]
    assert np.allclose(camera_to_world(camera, world_to_camera), landmarks)


def test_turntable_turns_a_full_circle(rig, space, keypoints):
    assert clip_yaw_range(rig, space, keypoints, "turntable", 8) >= 300.0


@pytest.mark.parametrize("motion", ["turn_in_place", "walk_circle"])
def test_turning_kinds_turn_at_least_120_degrees(rig, space, keypoints, motion):
    assert clip_yaw_range(rig, space, keypoints, motion, 6) >= 120.0


def test_steady_walk_keeps_facing_one_way(rig, space, keypoints):
    assert clip_yaw_range(rig, space, keypoints, "walk", 6) < 30.0


def test_turn_family_draws_turning_and_steady_clips(space):
    kinds = [sample_turn_family_clip(np.random.default_rng(seed), space, frames=2).name for seed in range(30)]
    assert set(kinds) & set(TURNING_KINDS) and set(kinds) & set(STEADY_KINDS)
    assert "turn" not in kinds

"""Pose library and clips: joint limits, floor contact, smooth motion."""

from __future__ import annotations

import numpy as np
import pytest

from humanvid.synth.bodies import place_on_floor, pose_body, sample_body
from humanvid.synth.poses import CLIP_KINDS, POSE_KINDS, sample_angles, sample_clip, sample_pose



def test_every_pose_kind_is_within_limits_and_deterministic(space):
    for index, kind in enumerate(POSE_KINDS):
        _, angles, lift = sample_angles(np.random.default_rng(index), kind)
        compact = space.compact(angles)
        assert np.all(compact >= space.lower - 1e-9) and np.all(compact <= space.upper + 1e-9)
        assert 0.0 <= lift < 0.2
        a = sample_pose(np.random.default_rng(index), space, kind)
        b = sample_pose(np.random.default_rng(index), space, kind)
        assert a.name == kind and np.array_equal(a.rotations, b.rotations)


def test_posed_bodies_stand_on_the_floor(rig, space):
    rng = np.random.default_rng(5)
    body = sample_body(rng)
    rotations = np.stack([sample_pose(rng, space, kind).rotations for kind in POSE_KINDS])
    posed = place_on_floor(pose_body(rig, body, rotations))
    lowest = posed.vertices[:, :, 2].min(axis=1)
    assert np.allclose(lowest, 0.0, atol=1e-9)
    heights = posed.vertices[:, :, 2].max(axis=1)
    assert np.all(heights > 0.7) and np.all(heights < 2.6)
    # the skinning transforms carry the rest body onto the posed one
    rest = np.concatenate([posed.rest_vertices, np.ones((len(posed.rest_vertices), 1))], axis=1)
    assert np.allclose(np.einsum("tvij,vj->tvi", posed.vertex_transforms, rest)[..., :3], posed.vertices, atol=1e-6)


@pytest.mark.parametrize("kind", CLIP_KINDS)
def test_clips_are_long_and_smooth(space, kind):
    clip = sample_clip(np.random.default_rng(3), space, 48, kind)
    assert clip.rotations.shape[0] == 48 and clip.yaw.shape == (48,) and clip.offsets.shape == (48, 3)
    step = np.abs(np.diff(clip.rotations, axis=0)).max()
    acceleration = np.abs(np.diff(clip.rotations, 2, axis=0)).max()
    # smooth motion: acceleration well under the step; a kink (direction reversing at once) would be ≈ 2 × step
    assert step < np.radians(35) and acceleration < 0.8 * step + np.radians(0.5)
    assert np.abs(np.diff(clip.yaw, 2)).max() < np.radians(2)

"""One 3D pose per frame from MediaPipe's several estimates: image depth blended in, looks averaged."""

from __future__ import annotations

import numpy as np
import pytest

from humanvid.body.world_landmarks import IMAGE_DEPTH_SCALE, blended_looks, mean_of_agreeing, with_image_depth


def _averaged(looks):
    """Separate looks [(world, image), ...] -> (T, 33, 3) as the fit stage averages them."""
    return mean_of_agreeing(blended_looks(looks))


def _pose(seed: int, frames: int = 3) -> np.ndarray:
    """(frames, 33, 3) random landmarks about a metre across, MediaPipe axes."""
    return np.random.default_rng(seed).normal(scale=0.3, size=(frames, 33, 3))


def _near(pose: np.ndarray, seed: int) -> np.ndarray:
    """Another look at `pose`: off by a few centimetres per landmark."""
    return pose + np.random.default_rng(seed).normal(scale=0.03, size=pose.shape)


def _as_image(world: np.ndarray, pixels_per_metre: float = 400.0) -> np.ndarray:
    """Image landmarks that agree with `world`: a rotation, scale and shift of it, depth as MediaPipe's runs."""
    angle = 0.4
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    image = world @ rotation.T * pixels_per_metre + np.array([300.0, 200.0, 0.0])
    image[..., 2] /= IMAGE_DEPTH_SCALE
    return image


def test_image_depth_that_agrees_changes_nothing():
    world = _pose(0)
    np.testing.assert_allclose(with_image_depth(world, _as_image(world)), world, atol=1e-9)


def test_image_depth_is_blended_in_by_its_weight():
    world, other = _pose(0), _pose(1)
    image = _as_image(other)
    fully = with_image_depth(world, image, weight=1.0)
    half = with_image_depth(world, image, weight=0.5)
    np.testing.assert_allclose(with_image_depth(world, image, weight=0.0), world)
    np.testing.assert_allclose(half, 0.5 * (world + fully), atol=1e-9)
    assert np.linalg.norm(half - world) > 0.05  # another pose does move it


def test_frames_missing_either_estimate_keep_what_there_is():
    world, image = _pose(0), _as_image(_pose(1))
    image[1, 5] = np.nan
    world[2] = np.nan
    blended = with_image_depth(world, image)
    np.testing.assert_allclose(blended[1], world[1])
    assert np.isnan(blended[2]).all() and not np.allclose(blended[0], world[0])


def test_looks_are_averaged_over_those_that_saw_the_frame():
    first = _pose(0, frames=4)
    second = _near(first, 1)
    first_image, second_image = _as_image(first), _as_image(second)
    first[1] = np.nan  # only the second look saw frame 1
    second[2] = np.nan  # only the first saw frame 2
    first[3] = second[3] = np.nan  # nobody saw frame 3
    averaged = _averaged([(first, first_image), (second, second_image)])
    np.testing.assert_allclose(averaged[0], 0.5 * (first[0] + second[0]), atol=1e-9)
    np.testing.assert_allclose(averaged[1], second[1], atol=1e-9)
    np.testing.assert_allclose(averaged[2], first[2], atol=1e-9)
    assert np.isnan(averaged[3]).all()


@pytest.mark.parametrize("looks", [1, 3])
def test_any_number_of_looks(looks):
    poses = [_near(_pose(0), seed) for seed in range(looks)]
    averaged = _averaged([(pose, _as_image(pose)) for pose in poses])
    np.testing.assert_allclose(averaged, np.mean(poses, axis=0), atol=1e-9)


def test_a_look_that_saw_another_pose_is_left_out():
    """Averaging an upright pose with an upside-down one makes neither; the first look is kept."""
    first = _pose(0, frames=2)
    first[:, :, 1] += np.linspace(-0.8, 0.8, 33)  # tall, like a person
    upside_down = first * np.array([1.0, -1.0, -1.0])  # turned 180° about x
    slightly_off = first + 0.02
    averaged = _averaged([(first, _as_image(first)), (upside_down, _as_image(upside_down))])
    np.testing.assert_allclose(averaged, first, atol=1e-9)
    averaged = _averaged([(first, _as_image(first)), (slightly_off, _as_image(slightly_off))])
    np.testing.assert_allclose(averaged, first + 0.01, atol=1e-9)

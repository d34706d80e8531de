"""The learnt correction of MediaPipe's limb directions (humanvid/body/limb_correction.py).

The shipped correction is tested on the bundled example clip, which belongs to the synthetic test
split (it was not learnt from), through real preprocessing and MediaPipe's real looks at its crops.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import REPO, run_cli

from humanvid.body.limb_correction import (CARRIED, LIMB_BONES, TO_Y_UP, LimbCorrection, bone_directions,
                                           learn_limb_correction)

TORSO_AND_HEAD = [i for i in range(33) if i not in {child for _, child in LIMB_BONES} | {c for cs in CARRIED.values() for c in cs}]


def clip_truth() -> np.ndarray:
    """(48, 33, 3) true keypoints of the example clip, camera frame (y up)."""
    with np.load(REPO / "examples" / "clip_groundtruth.npz") as arrays:
        return arrays["keypoints"].astype(np.float64)


def identity() -> LimbCorrection:
    """The correction that leaves every direction as it is (weights pick the bone's own direction)."""
    weights = np.zeros((len(LIMB_BONES), 49, 3))
    weights[:, 1:4] = np.eye(3)
    return LimbCorrection(weights)


def bone_angle_error(world: np.ndarray, truth: np.ndarray) -> float:
    """Mean angle [deg] between the limb bones of (T, 33, 3) world landmarks [MediaPipe axes] and the truth's,
    each in its own torso's axes."""
    seen, _ = bone_directions(world * TO_Y_UP)
    true, _ = bone_directions(truth)
    return float(np.degrees(np.arccos(np.clip((seen * true).sum(-1), -1, 1))).mean())


def test_the_correction_moves_only_the_limbs_and_keeps_their_lengths():
    world = clip_truth()[:12] * TO_Y_UP  # as MediaPipe's axes hold them
    world[3] = np.nan  # a frame without a person
    corrected = LimbCorrection.load().apply(world)
    assert np.isnan(corrected[3]).all()
    kept = np.delete(np.arange(12), 3)
    assert np.isfinite(corrected[kept]).all()
    np.testing.assert_array_equal(corrected[kept][:, TORSO_AND_HEAD], world[kept][:, TORSO_AND_HEAD])
    for parent, child in LIMB_BONES:
        np.testing.assert_allclose(np.linalg.norm(corrected[kept][:, child] - corrected[kept][:, parent], axis=-1),
                                   np.linalg.norm(world[kept][:, child] - world[kept][:, parent], axis=-1), rtol=1e-9)
    for joint, carried in CARRIED.items():  # hands and feet move with their wrist or ankle
        shift = corrected[kept][:, joint] - world[kept][:, joint]
        for landmark in carried:
            np.testing.assert_allclose(corrected[kept][:, landmark] - world[kept][:, landmark], shift, atol=1e-12)
    assert np.abs(corrected[kept] - world[kept]).max() > 0.01  # it did change the limbs
    np.testing.assert_allclose(identity().apply(world)[kept], world[kept], atol=1e-9)


def test_learning_recovers_a_depth_bias_it_is_shown():
    truth = clip_truth()
    seen = truth.copy()
    for parent, child in LIMB_BONES:  # MediaPipe-like: every limb's depth squashed to a third
        bone = truth[:, child] - truth[:, parent]
        seen[:, child] = seen[:, parent] + bone * np.array([1.0, 1.0, 1 / 3])
    world = seen * TO_Y_UP
    correction = learn_limb_correction(world[::2], truth[::2], ridge=1e-3)
    before, after = bone_angle_error(world[1::2], truth[1::2]), bone_angle_error(correction.apply(world[1::2]), truth[1::2])
    assert before > 4 and after < 0.5 * before


def test_a_file_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"format": "something-else", "weights": []}))
    with pytest.raises(ValueError, match="not a limb correction"):
        LimbCorrection.load(path)
    identity().save(tmp_path / "identity.json")
    np.testing.assert_array_equal(LimbCorrection.load(tmp_path / "identity.json").weights, identity().weights)


def test_the_fit_follows_mediapipes_corrected_limbs_nearer_the_truth(tmp_path, monkeypatch):
    from humanvid.body import limb_correction
    from humanvid.exchange.run_folder import RunFolder
    from humanvid.stages.fit import load_observations, look_at_crops

    result = run_cli("reconstruct", REPO / "examples" / "clip.mp4", "-o", tmp_path, "--until", "preprocess",
                     "--max-frames", "16", "-q")
    assert result.returncode == 0, result.stderr
    out_dir = tmp_path / "clip"
    observations = load_observations(RunFolder(out_dir))
    truth = clip_truth()[observations.frames]
    corrected = look_at_crops(RunFolder(out_dir), observations)
    monkeypatch.setattr(limb_correction.LimbCorrection, "load", classmethod(lambda cls, path=None: identity()))
    plain = look_at_crops(RunFolder(out_dir), observations)
    assert corrected.pose_model == plain.pose_model == "heavy"
    np.testing.assert_array_equal(corrected.pixels, plain.pixels)  # the 2D landmarks are left as they are
    assert bone_angle_error(corrected.world, truth) < bone_angle_error(plain.world, truth) - 1.0

"""The fit's looks at the crops: real MediaPipe (full and heavy models) on tennis crops, mirrored ones mapped back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from preprocessing.crop_looks import Look, crop_landmarks, fit_looks
from humanvid.landmarks import MIRRORED_LANDMARKS

BODY = [11, 12, 13, 14, 23, 24, 25, 26, 27, 28]  # shoulders, elbows, hips, knees, ankles: left, right


@pytest.fixture(scope="module")
def tennis_crops(tennis_run):
    out_dir, _ = tennis_run
    entries = [e for e in json.loads((out_dir / "keypoints.json").read_text())["frames"] if e["status"] == "ok"][40:48]
    crops = [out_dir / "crops" / f"{e['frame']:06d}.png" for e in entries] + [None, out_dir / "crops" / "missing.png"]
    return entries, crops


@pytest.mark.parametrize("look", [Look(1, True), Look(2, False), Look(2, True)], ids=["full-mirrored", "heavy", "heavy-mirrored"])
def test_look_finds_the_player_left_as_left(tennis_crops, look):
    entries, crops = tennis_crops
    [(world, image)] = crop_landmarks(crops, [look])
    assert world.shape == image.shape == (10, 33, 3)
    assert np.isnan(world[8:]).all() and np.isnan(image[8:]).all()  # no crop: nothing seen
    assert np.isfinite(world[:8]).all() and np.isfinite(image[:8]).all()

    # On the crop where the first look (full frame, mapped into the crop) saw the joints.
    first_crop = np.array([e["landmarks_crop"] for e in entries])[:, BODY]
    assert np.median(np.linalg.norm(image[:8, BODY, :2] - first_crop, axis=-1)) < 8.0
    # The same 3D pose as the first look, left as left, in metres about the hips.
    first_world = np.array([e["world_landmarks"] for e in entries])[:, BODY]
    same = np.median(np.linalg.norm(world[:8, BODY] - first_world, axis=-1))
    swapped = world[:8][:, [MIRRORED_LANDMARKS[i] for i in BODY]]
    assert same < 0.08 and np.median(np.linalg.norm(swapped - first_world, axis=-1)) > 2 * same
    assert np.abs(world[:8, [23, 24]].mean(axis=1)).max() < 0.05  # centred on the hips


def test_several_looks_come_back_in_order_with_all_crops_counted(tennis_crops):
    _, crops = tennis_crops
    looks = [Look(2, False), Look(1, True)]
    counts = []
    both = crop_landmarks(crops, looks, on_progress=lambda done, total: counts.append((done, total)))
    [(alone, _)] = crop_landmarks(crops, [Look(1, True)], workers=1)
    assert counts[-1] == (20, 20) and len(counts) == 20
    np.testing.assert_allclose(both[1][0], alone, atol=1e-6)  # one look per worker: the same tracker run
    assert not np.allclose(both[0][0][:8], alone[:8], atol=1e-3)  # the heavy model is another model


def test_the_fit_looks_with_the_heavy_model_that_setup_installs():
    # The README's setup installs it (humanvid install-pose-model); without it the fit falls back to (Look(1, True),).
    assert fit_looks() == (Look(2, False), Look(2, True))


def test_a_look_with_left_and_right_exchanged_does_not_agree(tennis_crops):
    from preprocessing.crop_looks import agrees_with

    entries, _ = tennis_crops
    first = np.array([e["landmarks_crop"] for e in entries])[..., :2]
    exchanged = first[:, list(MIRRORED_LANDMARKS)]
    noisy = first + np.random.default_rng(0).normal(0, 3, first.shape)
    elsewhere = first + 60.0
    missing = np.full_like(first, np.nan)
    assert agrees_with(first, noisy).all()
    assert not agrees_with(first, exchanged).any() and not agrees_with(first, elsewhere).any()
    assert not agrees_with(first, missing).any() and not agrees_with(missing, first).any()


def test_the_looks_that_most_looks_agree_with_are_kept(tennis_crops):
    from preprocessing.crop_looks import consensus

    entries, _ = tennis_crops
    first = np.array([e["landmarks_crop"] for e in entries])[..., :2]
    exchanged = first[:, list(MIRRORED_LANDMARKS)]
    noise = np.random.default_rng(1).normal(0, 3, first.shape)
    assert consensus([first, exchanged, first + noise]).tolist() == [[True] * 8, [False] * 8, [True] * 8]
    assert consensus([first, exchanged, exchanged + noise]).tolist() == [[False] * 8, [True] * 8, [True] * 8]
    assert consensus([first, exchanged]).tolist() == [[True] * 8, [False] * 8]  # a tie: the first look decides
    some = first.copy()
    some[:3] = np.nan  # the first look missed three frames: the others decide there
    assert consensus([some, exchanged, exchanged + noise])[0].tolist() == [False] * 8
    assert consensus([some, exchanged, exchanged + noise])[1].tolist() == [True] * 8


def test_a_look_at_someone_beside_the_followed_person_is_another_person(tennis_crops):
    from preprocessing.crop_looks import same_person

    entries, _ = tennis_crops
    first = np.array([e["landmarks_crop"] for e in entries])[..., :2]
    torso = np.linalg.norm(first[:, [11, 12]].mean(axis=1) - first[:, [23, 24]].mean(axis=1), axis=-1)
    noisy = first + np.random.default_rng(2).normal(0, 3, first.shape)
    beside = first + np.stack([1.2 * torso, np.zeros_like(torso)], -1)[:, None]
    missing = np.full_like(first, np.nan)
    assert same_person(first, noisy).all() and same_person(first, first[:, list(MIRRORED_LANDMARKS)]).all()
    assert not same_person(first, beside).any() and not same_person(first, missing).any()
    assert same_person(missing, first).all()  # no reference: nothing to tell them apart by

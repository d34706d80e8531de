"""The fit's second look at the crops: real MediaPipe on mirrored tennis crops, mapped back."""

from __future__ import annotations

import json

import numpy as np

from preprocessing.mirror_look import mirrored_crop_landmarks
from preprocessing.person import MIRRORED_LANDMARKS

BODY = [11, 12, 13, 14, 23, 24, 25, 26, 27, 28]  # shoulders, elbows, hips, knees, ankles: left, right


def test_mirrored_look_finds_the_player_left_as_left(tennis_run):
    out_dir, _ = tennis_run
    entries = [e for e in json.loads((out_dir / "keypoints.json").read_text())["frames"] if e["status"] == "ok"][40:48]
    crops = [out_dir / "crops" / f"{e['frame']:06d}.png" for e in entries] + [None, out_dir / "crops" / "missing.png"]
    world, image = mirrored_crop_landmarks(crops)
    assert world.shape == image.shape == (10, 33, 3)
    assert np.isnan(world[8:]).all() and np.isnan(image[8:]).all()  # no crop: nothing seen
    assert np.isfinite(world[:8]).all() and np.isfinite(image[:8]).all()

    # Mapped back onto the crop: where the first look (full frame, mapped into the crop) saw the joints.
    first_crop = np.array([e["landmarks_crop"] for e in entries])[:, BODY]
    assert np.median(np.linalg.norm(image[:8, BODY, :2] - first_crop, axis=-1)) < 8.0
    # The same 3D pose as the first look, left as left, in metres about the hips.
    first_world = np.array([e["world_landmarks"] for e in entries])[:, BODY]
    same = np.median(np.linalg.norm(world[:8, BODY] - first_world, axis=-1))
    swapped = world[:8][:, [MIRRORED_LANDMARKS[i] for i in BODY]]
    assert same < 0.08 and np.median(np.linalg.norm(swapped - first_world, axis=-1)) > 2 * same
    assert np.abs(world[:8, [23, 24]].mean(axis=1)).max() < 0.05  # centred on the hips

"""A still image in memory gets the crop the CLI would cut for it."""

from __future__ import annotations

import cv2
import numpy as np

from helpers import real_media, run_cli
from preprocessing.person import PersonDetector
from preprocessing.still import crop_still
from preprocessing.video import read_image


def test_still_crop_matches_the_cli(tmp_path):
    photo = real_media("lunge_6016x4016.jpg")
    with PersonDetector(video_mode=False) as detector:
        still = crop_still(detector, read_image(photo))
        assert crop_still(detector, np.full((300, 400, 3), 90, np.uint8)) is None
    assert still.crop.shape == (512, 512, 3) and still.mask.shape == (512, 512)
    assert run_cli("reconstruct", "--until", "preprocess", photo, "-o", tmp_path, "-q").returncode == 0
    cli_crop = cv2.cvtColor(cv2.imread(str(tmp_path / photo.stem / "crops" / "000000.png")), cv2.COLOR_BGR2RGB)
    assert np.abs(cli_crop.astype(int) - still.crop).mean() < 1.0
    cli_mask = cv2.imread(str(tmp_path / photo.stem / "masks" / "000000.png"), cv2.IMREAD_GRAYSCALE)
    assert np.mean((cli_mask > 127) == (still.mask > 127)) > 0.99


def test_mirrored_detection_maps_back_onto_the_image():
    """A still where MediaPipe finds nobody is tried mirrored; the mirrored result must land on the person as
    the direct one does, left as left (checked here on a frame it finds both ways)."""
    from humanvid.landmarks import MIRRORED_LANDMARKS
    from preprocessing.pose import make_pose, mirror_detection, run_pose
    from preprocessing.video import iter_frames, probe

    info = probe(real_media("tennis.mp4"))
    frame = next(f for f in iter_frames(info) if f.index == 40).image
    assert sorted(MIRRORED_LANDMARKS) == list(range(33))
    pose = make_pose(static_image_mode=True)
    try:
        direct = run_pose(pose, frame, 1.0)
        mirrored = mirror_detection(run_pose(pose, np.ascontiguousarray(frame[:, ::-1]), 1.0), frame.shape[1])
    finally:
        pose.close()
    body = [11, 12, 13, 14, 23, 24, 25, 26, 27, 28]  # shoulders, elbows, hips, knees, ankles: left, right
    assert np.median(np.linalg.norm(direct.landmarks[body, :2] - mirrored.landmarks[body, :2], axis=1)) < 8.0
    swapped = mirrored.landmarks[[MIRRORED_LANDMARKS[i] for i in body], :2]
    assert np.median(np.linalg.norm(direct.landmarks[body, :2] - swapped, axis=1)) > np.median(
        np.linalg.norm(direct.landmarks[body, :2] - mirrored.landmarks[body, :2], axis=1))  # left stays left
    first, second = direct.mask > 127, mirrored.mask > 127
    assert (first & second).sum() / (first | second).sum() > 0.85

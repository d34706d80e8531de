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

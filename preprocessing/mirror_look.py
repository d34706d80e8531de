"""A second look at the person: MediaPipe Pose on each 512×512 crop mirrored left-right, mapped back.

MediaPipe's 3D pose of a mirrored image, mirrored back, errs partly independently of its pose
of the image itself, so the fit averages the two (humanvid/body/world_landmarks.py). The
crops are run as one video (MediaPipe tracks the person from crop to crop), without
segmentation: ~30 ms per crop on one core here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from humanvid.quiet import native_stderr_silenced as quiet_stderr
from preprocessing.person import NUM_LANDMARKS, _make_pose, _run_pose, mirror_detection


def mirrored_crop_landmarks(crops: Sequence[Path | None], quiet: bool = True,
                            on_progress: Callable[[int, int], None] = lambda *_: None) -> tuple[np.ndarray, np.ndarray]:
    """T crop images (None where a frame has none) -> (T, 33, 3) world landmarks [m, MediaPipe axes] and
    (T, 33, 3) image landmarks x, y, z [crop px] of the mirrored crops, mapped back (left is left);
    NaN where there is no crop or MediaPipe finds nobody in it."""
    world = np.full((len(crops), NUM_LANDMARKS, 3), np.nan)
    image = np.full((len(crops), NUM_LANDMARKS, 3), np.nan)
    with quiet_stderr(quiet):
        pose = _make_pose(static_image_mode=False, segmentation=False)
    try:
        for row, path in enumerate(crops):
            crop = None if path is None else cv2.imread(str(path), cv2.IMREAD_COLOR)
            if crop is not None:
                mirrored = np.ascontiguousarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)[:, ::-1])
                with quiet_stderr(quiet):
                    found = _run_pose(pose, mirrored, 1.0)
                if found is not None:
                    back = mirror_detection(found, crop.shape[1])
                    world[row], image[row] = back.world_landmarks, back.landmarks[:, :3]
            on_progress(row + 1, len(crops))
    finally:
        pose.close()
    return world, image

"""A second look at the person: MediaPipe Pose on each 512×512 crop mirrored left-right, mapped back.

MediaPipe's 3D pose of a mirrored image, mirrored back, errs partly independently of its pose
of the image itself, so the fit averages the two (humanvid/body/world_landmarks.py). The
crops are run as video (MediaPipe tracks the person from crop to crop), without segmentation,
~35 ms per crop on one core here plus ~10 ms to read it. One MediaPipe graph keeps to one core,
so the sequence is split into WORKERS consecutive parts run side by side (tennis: 26 instead of
46 ms per crop on 2 cores); each part starts WARM_UP crops early so that its tracker has found the
person where its share begins. A tracker's results depend a little on the crops before, so they
are reproducible for a given WORKERS, not across different ones.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from humanvid.quiet import native_stderr_silenced as quiet_stderr
from preprocessing.person import NUM_LANDMARKS, _make_pose, _run_pose, mirror_detection

WORKERS = 2
WARM_UP = 4


def mirrored_crop_landmarks(crops: Sequence[Path | None], quiet: bool = True, workers: int = WORKERS,
                            on_progress: Callable[[int, int], None] = lambda *_: None) -> tuple[np.ndarray, np.ndarray]:
    """T crop images (None where a frame has none) -> (T, 33, 3) world landmarks [m, MediaPipe axes] and
    (T, 33, 3) image landmarks x, y, z [crop px] of the mirrored crops, mapped back (left is left);
    NaN where there is no crop or MediaPipe finds nobody in it."""
    world = np.full((len(crops), NUM_LANDMARKS, 3), np.nan)
    image = np.full((len(crops), NUM_LANDMARKS, 3), np.nan)
    if not len(crops):
        return world, image
    bounds = np.linspace(0, len(crops), max(1, min(workers, len(crops))) + 1).round().astype(int)
    lock, done = threading.Lock(), [0]

    def counted() -> None:
        with lock:
            done[0] += 1
            on_progress(done[0], len(crops))

    def look(start: int, stop: int) -> None:
        pose = _make_pose(static_image_mode=False, segmentation=False)
        try:
            for row in range(max(start - WARM_UP, 0), stop):
                found = _look_mirrored(pose, crops[row])
                if row < start:
                    continue
                if found is not None:
                    world[row], image[row] = found
                counted()
        finally:
            pose.close()

    with quiet_stderr(quiet, keep_python_stderr=True), ThreadPoolExecutor(len(bounds) - 1) as pool:
        for part in [pool.submit(look, start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]:
            part.result()
    return world, image


def _look_mirrored(pose, path: Path | None) -> tuple[np.ndarray, np.ndarray] | None:
    crop = None if path is None else cv2.imread(str(path), cv2.IMREAD_COLOR)
    if crop is None:
        return None
    found = _run_pose(pose, np.ascontiguousarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)[:, ::-1]), 1.0)
    if found is None:
        return None
    back = mirror_detection(found, crop.shape[1])
    return back.world_landmarks, back.landmarks[:, :3]

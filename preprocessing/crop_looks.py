"""More looks at the person: MediaPipe Pose on each 512×512 crop, plain or mirrored left-right (mapped back).

MediaPipe's pose of a crop errs partly independently of its pose of the full frame, the more so
mirrored or with another model, so the fit follows their average (humanvid/body/world_landmarks.py).
The looks the fit takes (`fit_looks`): the heavy model on the crop and on its mirror image where that
model is installed (preprocessing/pose_models.py), else the bundled full model on the mirror image.

The crops are run as video (MediaPipe tracks the person from crop to crop), without segmentation;
per crop on one core here: full model ~35 ms, heavy ~65 ms, plus ~10 ms to read it. One MediaPipe
graph keeps to one core, so WORKERS graphs run side by side: one per look, or, for a single look,
its sequence split into WORKERS consecutive parts (tennis: 26 instead of 46 ms per crop on 2 cores;
docs/fitting_tuning.md), each part starting WARM_UP crops early so that its tracker has found the
person where its share begins. A tracker's results depend a little on the crops before, so they are
reproducible for a given split, not across different ones.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from humanvid.landmarks import HIPS, MEDIAPIPE_INDEX, MIRRORED_LANDMARKS, NUM_LANDMARKS, SHOULDERS
from humanvid.quiet import native_stderr_silenced as quiet_stderr
from preprocessing import candidates, pose_models
from preprocessing.pose import make_pose, mirror_detection, run_pose

WORKERS = 2  # MediaPipe graphs run side by side (each keeps to one core)
WARM_UP = 4  # crops each part of a look starts early (as video), for its tracker to find the person
MAX_APART = 40.0  # crop px: median distance of body landmarks beyond which a look saw another pose
ANOTHER_PERSON = 0.5  # torso lengths between two looks' torso centres beyond which a look saw another person
BODY = list(range(MEDIAPIPE_INDEX["left_shoulder"], NUM_LANDMARKS))  # shoulders down: the face says little about left and right


@dataclass(frozen=True)
class Look:
    complexity: int  # MediaPipe's pose model: 1 full (bundled), 2 heavy (installed separately)
    mirrored: bool  # run on the crop mirrored left-right, results mapped back (left is left)


def fit_looks() -> tuple[Look, ...]:
    """The looks at the crops that the fit stage takes besides preprocessing's look at the frame."""
    return (Look(2, False), Look(2, True)) if pose_models.heavy_model_installed() else (Look(1, True),)


def crop_landmarks(crops: Sequence[Path | None], looks: Sequence[Look], quiet: bool = True, workers: int = WORKERS,
                   on_progress: Callable[[int, int], None] = lambda *_: None,
                   unrelated: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """T crop images (None where a frame has none) -> per look, (T, 33, 3) world landmarks [m, MediaPipe
    axes] and (T, 33, 3) image landmarks x, y, z [crop px]; NaN where there is no crop or MediaPipe finds
    nobody in it. `on_progress(done, total)` counts crops over all looks. The crops are a video's frames
    (MediaPipe follows the person from one to the next) unless `unrelated` (each looked at on its own)."""
    results = [(np.full((len(crops), NUM_LANDMARKS, 3), np.nan), np.full((len(crops), NUM_LANDMARKS, 3), np.nan))
               for _ in looks]
    if not len(crops) or not looks:
        return results
    parts = max(1, min(workers // len(looks), len(crops)))
    bounds = np.linspace(0, len(crops), parts + 1).round().astype(int)
    jobs = [(index, start, stop) for index in range(len(looks)) for start, stop in zip(bounds[:-1], bounds[1:])]
    lock, done, total = threading.Lock(), [0], len(crops) * len(looks)

    def counted() -> None:
        with lock:
            done[0] += 1
            on_progress(done[0], total)

    def run(index: int, start: int, stop: int) -> None:
        look = looks[index]
        world, image = results[index]
        pose = make_pose(static_image_mode=unrelated, segmentation=False, complexity=look.complexity)
        try:
            for row in range(start if unrelated else max(start - WARM_UP, 0), stop):
                found = _look(pose, crops[row], look.mirrored)
                if row < start:
                    continue
                if found is not None:
                    world[row], image[row] = found
                counted()
        finally:
            pose.close()

    with quiet_stderr(quiet, keep_python_stderr=True), ThreadPoolExecutor(max(1, min(workers, len(jobs)))) as pool:
        for job in [pool.submit(run, *job) for job in jobs]:
            job.result()
    return results


def agrees_with(reference: np.ndarray, look: np.ndarray) -> np.ndarray:
    """(T, 33, 2) landmarks of two looks [crop px] -> (T,) whether they saw the same pose: body landmarks
    within MAX_APART of each other (median), and nearer than with left and right exchanged.
    False where either look has no landmarks."""
    apart = np.median(np.linalg.norm(look[:, BODY] - reference[:, BODY], axis=-1), axis=1)
    exchanged = np.median(np.linalg.norm(look[:, list(MIRRORED_LANDMARKS)][:, BODY] - reference[:, BODY], axis=-1), axis=1)
    with np.errstate(invalid="ignore"):
        return (apart <= MAX_APART) & (apart <= exchanged)


def same_person(reference: np.ndarray, look: np.ndarray) -> np.ndarray:
    """(T, 33, 2) landmarks of the followed person (preprocessing's look) and of another look [crop px] ->
    (T,) whether the look saw that person and not someone beside them in the crop (candidates.same_person:
    torso centres within ANOTHER_PERSON torso lengths, at least MAX_APART px, torsos of a size). Left and
    right exchanged is the same person. True where the reference has no landmarks, False where the look has none."""
    torso = np.linalg.norm(reference[:, SHOULDERS].mean(axis=1) - reference[:, HIPS].mean(axis=1), axis=-1)
    return np.where(np.isfinite(torso), candidates.same_person(reference, look, ANOTHER_PERSON, MAX_APART), True)


def consensus(looks: Sequence[np.ndarray]) -> np.ndarray:
    """L looks' (T, 33, 2) landmarks [crop px] -> (L, T) the looks that saw the pose most of them saw.

    MediaPipe sometimes exchanges left and right in one look and not in the others (tennis: 10 of 312
    crops in the heavy model's plain look); averaged, such looks would fold the limbs onto the body's
    midline. Per frame, the look that agrees with the most others (ties: the earliest) decides; the
    looks that disagree with it are left out. False where a look has no landmarks."""
    agree = np.stack([np.stack([agrees_with(a, b) for b in looks]) for a in looks])  # (L, L, T)
    votes = agree.sum(axis=1)  # (L, T): a look that saw the frame agrees with itself
    decider = votes.argmax(axis=0)  # (T,) earliest among the most agreed with
    return agree[decider, :, np.arange(agree.shape[-1])].T


def _look(pose, path: Path | None, mirrored: bool) -> tuple[np.ndarray, np.ndarray] | None:
    crop = None if path is None else cv2.imread(str(path), cv2.IMREAD_COLOR)
    if crop is None:
        return None
    rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
    found = run_pose(pose, np.ascontiguousarray(rgb[:, ::-1]) if mirrored else rgb, 1.0)
    if found is None:
        return None
    if mirrored:
        found = mirror_detection(found, crop.shape[1])
    return found.world_landmarks, found.landmarks[:, :3]

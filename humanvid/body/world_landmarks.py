"""One 3D pose per frame from several of MediaPipe's estimates of it.

In: L looks at the same T frames, each MediaPipe's world landmarks (T, 33, 3) [m about the hip
centre, MediaPipe axes: x right, y down, z away from the camera] and image landmarks (T, 33, 3)
(x, y [px], z [px, relative to the hips]), NaN where the look saw nobody. Out: (T, 33, 3) world
landmarks [m, MediaPipe axes], the 3D the fit's direction term follows.

The looks are preprocessing's look at each frame and MediaPipe's looks at its crop
(preprocessing/crop_looks.py: the heavy pose model, plain and mirrored, where it is installed, else
the full model, mirrored). Their errors are partly independent, so the fit follows their average:

- each look's image landmarks, their depth scaled by IMAGE_DEPTH_SCALE, are moved onto its
  world landmarks by the best similarity and blended with them (IMAGE_DEPTH_WEIGHT);
- the looks are averaged, leaving out a look that is far from the first one (more than
  DISAGREEMENT metres per landmark on average): that is not noise but MediaPipe seeing another
  pose, e.g. an upright person upside down in one look (the fit then leaves out its 2D landmarks too).

Design note: MediaPipe's image depth fits the truth best at a quarter of its scale, and blended in
halves it improves the world landmarks (PA-MPJPE 84.7 → 81.6 mm on the validation clips). The rest
of the evidence, and what was tried and not taken: docs/fitting_tuning.md ("Inputs: MediaPipe's looks").
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from humanvid.evaluation.metrics import procrustes_align

IMAGE_DEPTH_SCALE = 0.25  # factor on MediaPipe's image depth z [px] before it meets the world landmarks
IMAGE_DEPTH_WEIGHT = 0.5  # share of the image landmarks in the blend (0: world landmarks only)
DISAGREEMENT = 0.6  # metres, mean over the 33 landmarks


def with_image_depth(world: np.ndarray, image: np.ndarray, weight: float = IMAGE_DEPTH_WEIGHT,
                     depth_scale: float = IMAGE_DEPTH_SCALE) -> np.ndarray:
    """(T, 33, 3) world landmarks [m] and (T, 33, 3) image landmarks (x, y, z [px], MediaPipe axes)
    -> (T, 33, 3) world landmarks blended with the image landmarks moved onto them.

    Frames where either is missing (any NaN) keep their world landmarks.
    """
    world = np.asarray(world, np.float64)
    scaled = np.asarray(image, np.float64) * np.array([1.0, 1.0, depth_scale])
    blended = world.copy()
    for frame in np.flatnonzero(np.isfinite(world).all(axis=(1, 2)) & np.isfinite(scaled).all(axis=(1, 2))):
        blended[frame] = (1.0 - weight) * world[frame] + weight * procrustes_align(scaled[frame], world[frame])
    return blended


def blended_looks(looks: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """[(world (T, 33, 3), image (T, 33, 3)), ...] -> (L, T, 33, 3) each look's world landmarks blended
    with its image depth (with_image_depth)."""
    return np.stack([with_image_depth(world, image) for world, image in looks])


def mean_of_agreeing(estimates: np.ndarray) -> np.ndarray:
    """(L, T, 33, 3) looks' world landmarks (blended_looks of separate looks at the same frames) -> (T, 33, 3)
    their mean over the looks that saw each frame and agree with the first look where it saw it
    (agreeing_looks; NaN where none did)."""
    kept = agreeing_looks(estimates)[..., None, None]
    count = kept.sum(axis=0)
    total = np.where(kept, estimates, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def agreeing_looks(estimates: np.ndarray) -> np.ndarray:
    """(L, T, 33, 3) looks' world landmarks -> (L, T) whether each look saw the frame and is within
    DISAGREEMENT of the first look (or the first look did not see the frame)."""
    seen = np.isfinite(estimates).all(axis=(2, 3))
    with np.errstate(invalid="ignore"):
        apart = np.linalg.norm(estimates - estimates[:1], axis=-1).mean(axis=-1)
    return seen & ~(apart > DISAGREEMENT)  # NaN (the first look did not see the frame) keeps the look

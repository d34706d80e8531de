"""One 3D pose per frame from several of MediaPipe's estimates of it.

MediaPipe estimates a person's 3D pose twice in every look at a frame: its world landmarks
(metres about the hips) and the depth `z` of its image landmarks (pixels, relative to the
hips). The fit also looks at each crop again: with the heavy pose model, plain and mirrored, where
it is installed, else with the full model, mirrored (preprocessing/crop_looks.py). Their errors are
partly independent, so the fit follows their average:

- each look's image landmarks, their depth scaled by IMAGE_DEPTH_SCALE, are moved onto its
  world landmarks by the best similarity and blended with them (IMAGE_DEPTH_WEIGHT);
- the looks are averaged, leaving out a look that is far from the first one (more than
  DISAGREEMENT metres per landmark on average): that is not noise but MediaPipe seeing another
  pose, e.g. an upright person upside down in one look (the fit then leaves out its 2D landmarks too).
  On the 8 synthetic test clips and tennis the looks were at most 0.36 and
  0.48 m apart (median 0.06); on a synthetic still MediaPipe saw upside down, 1.0 m.

Chosen on the 8 validation clips (benchmarks/fitting_clips.py, seeds 9100–9107; measured with
the mirrored look as one pass over each clip, before it was split in two): MediaPipe's
image depth fits the truth best at a quarter of its scale (PA-MPJPE of the image landmarks
alone 84 mm at 0.25 or 0.3, 101 at 0.15, ~200 at 1); blending it in halves cut the world
landmarks' PA-MPJPE from 84.7 to 81.6 mm, and with the mirrored look to 78.3. The fit that
follows them: PA-MPJPE 69.0 → 66.0 mm, acceleration error 8.23 → 7.87 mm/frame², MPJPE
106.7 → 103.6 mm (the mirrored look without the image depth: 66.7 / 7.66 / 103.0).

Tried on the same clips and not taken (the fit with the split second look as shipped: MPJPE 102.9,
PA-MPJPE 65.8 mm, acceleration 7.86 mm/frame²): the looks' disagreement as a per-limb confidence
(limbs on which they disagree by more than 20° are 30–40° off the truth, those within 10° 13–16°), weighting
the fit's direction term by 1 / (1 + (angle / 20°)²): 103.2 / 66.1 / 7.87; and the looks' 2D landmarks
averaged as well, which cuts the 2D error from 7.9 to 7.4 crop px (test clips 7.3 → 6.5): 102.4 / 65.7 /
7.81: that much less 2D noise does not help. Later, with the heavy looks and the stronger pose prior: the image
landmarks alone (weight 1.0, the fit's direction term at 0.25) fit the joints of the synthetic clips better
(test PA-MPJPE 52.9 → 52.3 mm) and the meshes worse (docs/fitting_tuning.md); nor did four more heavy looks
at the crop turned by ±12° help.

MediaPipe's heavy pose model (preprocessing/pose_models.py) does: its looks at the crop, plain and
mirrored, in place of the full model's mirrored look, with their mean 2D landmarks in place of the
first look's (2D error on the 8 test clips 7.2 → 5.2 crop px, 3D PA-MPJPE of the averaged looks
74.7 → 69.7 mm): the fit's MPJPE / PA-MPJPE / acceleration on the validation clips 103.1 / 65.9 / 7.85
→ 93.4 / 61.3 / 7.20, on the test clips 96.1 / 66.4 / 6.85 → 89.1 / 57.4 / 6.02. On the test clips,
the two heavy looks' 3D alone, with the first look's 2D landmarks, gave PA-MPJPE 61.4: the rest is the 2D.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from humanvid.evaluation.metrics import procrustes_align

IMAGE_DEPTH_SCALE = 0.25
IMAGE_DEPTH_WEIGHT = 0.5
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

"""One still image → the same 512×512 crop, mask and landmarks a video frame would get.

For callers that have images in memory (the synthetic-data generator, a
notebook): the crop box comes from the same person box and smoothing code as
in the video stage, with a track one frame long.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanvid.constants import PERSON_FILL
from preprocessing.crop import crop_affine, person_extent, scaled_affine, warp
from preprocessing.person import PersonDetector
from preprocessing.smoothing import smooth_boxes


@dataclass
class StillCrop:
    crop: np.ndarray  # (512, 512, 3) uint8 RGB
    mask: np.ndarray  # (512, 512) uint8 person mask (MediaPipe), 255 = person
    landmarks: np.ndarray  # (33, 4) x, y [full-frame px], z [px], visibility
    world_landmarks: np.ndarray  # (33, 3) metres about the hip centre
    affine: np.ndarray  # (2, 3) full-frame px → crop px


def crop_still(detector: PersonDetector, image: np.ndarray) -> StillCrop | None:
    """Find the person in an H×W×3 RGB image and cut their crop; None if nobody is found."""
    detection = detector.detect(image)
    if detection is None:
        return None
    extent = person_extent(detection)
    centers, sides = smooth_boxes(extent[None], np.array([True]), rate=30.0, fill=PERSON_FILL)
    affine = crop_affine(centers[0], sides[0])
    mask = warp(detection.mask, scaled_affine(affine, detection.mask_scale))
    return StillCrop(warp(image, affine), mask, detection.landmarks, detection.world_landmarks, affine)

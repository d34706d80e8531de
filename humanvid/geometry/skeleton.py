"""A person's skeleton in an image: segments between MediaPipe landmarks, and each pixel's distance to them.

Segments are named by landmark (humanvid.landmarks.MEDIAPIPE_INDEX) plus "neck", the shoulders' midpoint,
and "pelvis", the hips'. The distance is exact (OpenCV's precise distance transform) to the segments drawn
one pixel wide: the base of capsule pictures of a body (preprocessing/instance.py: whose pixel is it;
humanvid/evaluation/parts.py: which part is it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import cv2
import numpy as np

from humanvid.landmarks import HIPS, MEDIAPIPE_INDEX, SHOULDERS


def named_points(points: np.ndarray) -> dict[str, np.ndarray]:
    """(33, 2) landmarks in an image's pixels → name → (2,) point, with "neck" and "pelvis" added."""
    named = {name: points[index] for name, index in MEDIAPIPE_INDEX.items()}
    named["neck"], named["pelvis"] = points[SHOULDERS].mean(axis=0), points[HIPS].mean(axis=0)
    return named


def segment_distance(points: Mapping[str, np.ndarray], segments: Iterable[tuple[str, str]], shape: tuple[int, int],
                     keep: Callable[[str, str], bool] = lambda a, b: True) -> np.ndarray | None:
    """(h, w) float32: each pixel's distance [px] to the nearest of `segments` (pairs of names in `points`)
    whose ends are finite and that `keep` accepts; None when no segment is left."""
    canvas = np.full(shape, 255, np.uint8)
    drawn = False
    for a, b in segments:
        if keep(a, b) and np.isfinite(points[a]).all() and np.isfinite(points[b]).all():
            cv2.line(canvas, _pixel(points[a]), _pixel(points[b]), 0, 1, cv2.LINE_8)
            drawn = True
    return cv2.distanceTransform(canvas, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) if drawn else None


def _pixel(point: np.ndarray) -> tuple[int, int]:
    """A point as OpenCV's integer pixel, clamped far outside so lines to points off the image still draw."""
    return tuple(int(np.clip(round(float(v)), -1_000_000, 1_000_000)) for v in point)

"""MediaPipe Pose (bundled models) on one image or one region of it: one person's landmarks and mask.

MediaPipe's Pose solution finds at most one person per call (the one its detector
scores highest); finding several people, and choosing among them, is done by
running it on regions (preprocessing/search.py, preprocessing/candidates.py).
"""

from __future__ import annotations

import os
import sys
import types
from dataclasses import dataclass

import numpy as np

from humanvid.errors import HumanvidError
from humanvid.landmarks import HIPS, MIRRORED_LANDMARKS, SHOULDERS

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@dataclass
class Detection:
    """One person in one frame, in full-frame pixel coordinates."""

    landmarks: np.ndarray  # (33, 4): x, y [px], z [px, relative to the hips], visibility
    world_landmarks: np.ndarray  # (33, 3) metres about the hip centre (MediaPipe world frame)
    mask: np.ndarray  # (h, w) uint8 soft person mask, 255 = person, at `mask_scale` × full size
    mask_scale: float  # mask pixel = full-frame pixel × mask_scale

    @property
    def center(self) -> np.ndarray:
        """(2,) mid-point of shoulders and hips [px]."""
        return self.landmarks[SHOULDERS + HIPS, :2].mean(axis=0)

    @property
    def torso_size(self) -> float:
        """Shoulder-centre to hip-centre distance [px], a scale that does not depend on pose."""
        shoulders = self.landmarks[SHOULDERS, :2].mean(axis=0)
        hips = self.landmarks[HIPS, :2].mean(axis=0)
        return float(max(np.linalg.norm(shoulders - hips), 1.0))


def import_mediapipe() -> types.ModuleType:
    """`import mediapipe`, without the 0.6 s of matplotlib and MediaPipe Tasks that the Pose solution never uses.

    While mediapipe imports, those modules are stand-ins that import the real
    module on first use; afterwards every other importer gets the real one.
    """
    if "mediapipe" in sys.modules or "matplotlib" in sys.modules:
        import mediapipe

        return mediapipe
    names = ("matplotlib", "matplotlib.pyplot", "mediapipe.tasks", "mediapipe.tasks.python")
    stand_ins = {name: _Deferred(name) for name in names}
    stand_ins["matplotlib"].pyplot = stand_ins["matplotlib.pyplot"]
    stand_ins["mediapipe.tasks"].python = stand_ins["mediapipe.tasks.python"]
    sys.modules.update(stand_ins)
    try:
        import mediapipe
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
    return mediapipe


class _Deferred(types.ModuleType):
    """Stands in for a module: imports the real one when an attribute is first asked for."""

    def __getattr__(self, name: str):
        import importlib

        return getattr(importlib.import_module(self.__name__), name)


def make_pose(static_image_mode: bool, segmentation: bool = True, complexity: int = 1):
    """MediaPipe Pose; `complexity` 2 (the heavy model) only where it is installed (preprocessing/pose_models.py),
    as MediaPipe would otherwise download it."""
    if complexity == 2:
        from preprocessing.pose_models import heavy_model_installed

        if not heavy_model_installed():
            raise HumanvidError("MediaPipe's heavy pose model is not installed (humanvid install-pose-model)")
    mp = import_mediapipe()
    return mp.solutions.pose.Pose(
        static_image_mode=static_image_mode,
        model_complexity=complexity,
        smooth_landmarks=False,  # humanvid smooths offline, without lag
        enable_segmentation=segmentation,
        smooth_segmentation=segmentation and not static_image_mode,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
    )


def run_pose(pose, image: np.ndarray, scale: float) -> Detection | None:
    """Run MediaPipe on an H×W×3 RGB `image` (already scaled by `scale` from the full frame); None if nobody."""
    results = pose.process(image)
    if results.pose_landmarks is None:
        return None
    height, width = image.shape[:2]
    raw = np.array([(p.x, p.y, p.z, p.visibility) for p in results.pose_landmarks.landmark], dtype=np.float64)
    landmarks = raw.copy()
    landmarks[:, 0] *= width / scale
    landmarks[:, 1] *= height / scale
    landmarks[:, 2] *= width / scale
    world = np.array([(p.x, p.y, p.z) for p in results.pose_world_landmarks.landmark], dtype=np.float64)
    if results.segmentation_mask is not None:
        mask = _to_uint8(results.segmentation_mask)
    else:
        mask = np.zeros((height, width), np.uint8)
    return Detection(landmarks, world, mask, scale)


def run_pose_in(pose, small: np.ndarray, scale: float, box: tuple[int, int, int, int]) -> Detection | None:
    """Run MediaPipe on the region `box` = (x0, y0, x1, y1) [px of `small`] of `small` (the full frame scaled
    by `scale`); the result in full-frame coordinates, its mask `small`-sized and empty outside the region."""
    x0, y0, x1, y1 = box
    found = run_pose(pose, np.ascontiguousarray(small[y0:y1, x0:x1]), 1.0)
    if found is None:
        return None
    landmarks = found.landmarks.copy()
    landmarks[:, 0] += x0
    landmarks[:, 1] += y0
    landmarks[:, :3] /= scale
    mask = np.zeros(small.shape[:2], np.uint8)
    mask[y0:y1, x0:x1] = found.mask
    return Detection(landmarks, found.world_landmarks, mask, scale)


def run_pose_mirrored(pose, small: np.ndarray, scale: float) -> Detection | None:
    """MediaPipe on the left-right mirrored `small`, mapped back onto the frame.

    Its person detector misses some back views and bent-over poses that it finds in the mirror image
    (synthetic test renders: people found in 91 → 95 of 100; docs/fitting_tuning.md).
    """
    mirrored = run_pose(pose, np.ascontiguousarray(small[:, ::-1]), scale)
    return None if mirrored is None else mirror_detection(mirrored, small.shape[1] / scale)


def mirror_detection(detection: Detection, width: float) -> Detection:
    """The detection of a left-right mirrored image, mapped back: x → width − x, left and right exchanged."""
    landmarks = detection.landmarks[list(MIRRORED_LANDMARKS)].copy()
    landmarks[:, 0] = width - landmarks[:, 0]
    world = detection.world_landmarks[list(MIRRORED_LANDMARKS)].copy()
    world[:, 0] = -world[:, 0]
    return Detection(landmarks, world, np.ascontiguousarray(detection.mask[:, ::-1]), detection.mask_scale)


def _to_uint8(probability: np.ndarray) -> np.ndarray:
    """A [0, 1] float32 mask as 0..255, rounded (in place on one temporary: 7× faster than np.clip's copies)."""
    scaled = probability * np.float32(255.0)
    scaled += np.float32(0.5)
    np.clip(scaled, 0, 255, out=scaled)
    return scaled.astype(np.uint8)

"""One person per frame: MediaPipe Pose (bundled models) landmarks and segmentation mask.

MediaPipe runs in video mode, so it tracks the person it found first. When its
tracker loses that person and re-detects, it may pick somebody else; a jump of
the body centre larger than the body could have moved is taken as such a
switch, and the frame is searched again in a window around where the followed
person was, so the track never hops between people.
"""

from __future__ import annotations

import os
import sys
import types
from dataclasses import dataclass

import cv2
import numpy as np

from humanvid.errors import HumanvidError
from humanvid.landmarks import HIPS, MIRRORED_LANDMARKS, SHOULDERS
from humanvid.quiet import native_stderr_silenced as quiet_stderr

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MAX_DETECTION_SIDE = 1280  # larger frames are downscaled for detection, results mapped back


@dataclass
class Detection:
    """The followed person in one frame, in full-frame pixel coordinates."""

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


def _import_mediapipe() -> types.ModuleType:
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


def _make_pose(static_image_mode: bool, segmentation: bool = True, complexity: int = 1):
    """MediaPipe Pose; `complexity` 2 (the heavy model) only where it is installed (preprocessing/pose_models.py),
    as MediaPipe would otherwise download it."""
    if complexity == 2:
        from preprocessing.pose_models import heavy_model_installed

        if not heavy_model_installed():
            raise HumanvidError("MediaPipe's heavy pose model is not installed (humanvid install-pose-model)")
    mp = _import_mediapipe()
    return mp.solutions.pose.Pose(
        static_image_mode=static_image_mode,
        model_complexity=complexity,
        smooth_landmarks=False,  # humanvid smooths offline, without lag
        enable_segmentation=segmentation,
        smooth_segmentation=segmentation and not static_image_mode,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
    )


class PersonDetector:
    """Follows one person through a sequence of frames (or finds one in a still image)."""

    def __init__(self, video_mode: bool = True, quiet: bool = True):
        self.video_mode = video_mode
        self.quiet = quiet
        with quiet_stderr(quiet):
            self._pose = _make_pose(static_image_mode=not video_mode)
        self._search = None  # static-image Pose for re-finding the followed person
        self._previous: Detection | None = None
        self._missed = 0  # frames since the followed person was last seen

    def close(self) -> None:
        for pose in (self._pose, self._search):
            if pose is not None:
                pose.close()

    def __enter__(self) -> "PersonDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def detect(self, image: np.ndarray) -> Detection | None:
        """Landmarks and mask of the followed person in an H×W×3 RGB frame, or None."""
        scale = min(1.0, MAX_DETECTION_SIDE / max(image.shape[:2]))
        small = image if scale == 1.0 else cv2.resize(
            image, (round(image.shape[1] * scale), round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA
        )
        with quiet_stderr(self.quiet):
            detection = _run_pose(self._pose, small, scale)
            if detection is None and not self.video_mode:
                detection = _retry_still(self._pose, small, scale)
        if self.video_mode and self._previous is not None and (
            detection is None or not _plausible_motion(self._previous, detection, self._missed)
        ):
            detection = self._search_near(small, scale, self._previous)
        if detection is None:
            self._missed += 1
        else:
            self._previous, self._missed = detection, 0
        return detection

    def _search_near(self, small: np.ndarray, scale: float, previous: Detection) -> Detection | None:
        """Look for the followed person in a window around their last position."""
        if self._search is None:
            with quiet_stderr(self.quiet):
                self._search = _make_pose(static_image_mode=True)
        height, width = small.shape[:2]
        center = previous.center * scale
        half = (3.0 + 1.5 * self._missed) * previous.torso_size * scale
        x0, y0 = (max(int(c - half), 0) for c in center)
        x1, y1 = int(min(center[0] + half, width)), int(min(center[1] + half, height))
        if x1 - x0 < 32 or y1 - y0 < 32:
            return None
        window = np.ascontiguousarray(small[y0:y1, x0:x1])
        with quiet_stderr(self.quiet):
            found = _run_pose(self._search, window, 1.0)
        if found is None:
            return None
        found.landmarks[:, 0] += x0
        found.landmarks[:, 1] += y0
        mask = np.zeros((height, width), np.uint8)
        mask[y0:y1, x0:x1] = found.mask
        found.landmarks[:, :3] /= scale
        detection = Detection(found.landmarks, found.world_landmarks, mask, scale)
        return detection if _plausible_motion(previous, detection, self._missed) else None


def _run_pose(pose, image: np.ndarray, scale: float) -> Detection | None:
    """Run MediaPipe on `image` (already scaled by `scale` from the full frame)."""
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


def _retry_still(pose, small: np.ndarray, scale: float) -> Detection | None:
    """A still image where MediaPipe found nobody, looked at again mirrored; the result is mapped back.

    Its person detector misses some back views and bent-over poses that it finds in the mirror image
    (synthetic test renders: people found in 91 → 95 of 100; docs/fitting_tuning.md).
    """
    mirrored = _run_pose(pose, np.ascontiguousarray(small[:, ::-1]), scale)
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


def _plausible_motion(previous: Detection, current: Detection, frames_missed: int = 0) -> bool:
    """False when the body centre jumped further than a person moves in the frames between."""
    jump = np.linalg.norm(current.center - previous.center)
    size_ratio = current.torso_size / previous.torso_size
    return jump < 1.5 * (1 + frames_missed) * previous.torso_size and 0.5 < size_ratio < 2.0

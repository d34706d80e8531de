"""The followed person's hands as MediaPipe Hands sees them: 21 landmarks each, fingertips included.

The pose's own hand landmarks (wrist, index and pinky knuckles, thumb) stop short of
the fingertips and are sometimes confidently wrong, so what lies beyond them cannot be
told from the pose alone. MediaPipe Hands (its bundled palm detector and hand
landmark models) is run on a square crop around each of the pose's hands; a hand it
finds whose wrist lies within NEAR of the pose's wrist is that hand. Where a hand is
found, what the person holds can be cut out of their mask (preprocessing/instance.py).
"""

from __future__ import annotations

import cv2
import numpy as np

from humanvid.landmarks import MEDIAPIPE_INDEX
from humanvid.quiet import native_stderr_silenced as quiet_stderr
from preprocessing.pose import Detection, import_mediapipe

# MediaPipe Hands' landmarks: 0 wrist, 1-4 thumb, 5-8 index, 9-12 middle, 13-16 ring, 17-20 little finger (tips 4,
# 8, 12, 16, 20). The bones between them, and the palm's outline.
HAND_BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (9, 10), (10, 11), (11, 12),
    (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20), (5, 9), (9, 13), (13, 17),
)
CROP = 256  # px: each hand's crop is resized to this square before MediaPipe Hands reads it
CROP_HALF = (2.5, 1.0, 0.3)  # half the crop's side: the most of these × (wrist to hand centre, forearm, torso length)
NEAR = 0.5  # [torso lengths] a found hand's wrist this near the pose's wrist is the pose's hand
MIN_CONFIDENCE = 0.3  # MediaPipe Hands' palm detection confidence


class HandFinder:
    """MediaPipe Hands on crops around a person's hands (a context manager: `close` frees the graph)."""

    def __init__(self, quiet: bool = True):
        self.quiet = quiet
        with quiet_stderr(quiet):
            self._hands = import_mediapipe().solutions.hands.Hands(
                static_image_mode=True, max_num_hands=1, model_complexity=1, min_detection_confidence=MIN_CONFIDENCE)

    def close(self) -> None:
        self._hands.close()

    def __enter__(self) -> "HandFinder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def find(self, small: np.ndarray, scale: float, person: Detection, sides: tuple[str, ...] = ("left", "right")
             ) -> list[np.ndarray]:
        """The hands of `person` on `sides` found in `small` (the H×W×3 RGB frame scaled by `scale`): one (21, 2)
        array of full-frame pixels per hand found."""
        found = []
        for side in sides:
            hand = self._find_one(small, scale, person, side)
            if hand is not None:
                found.append(hand)
        return found

    def _find_one(self, small: np.ndarray, scale: float, person: Detection, side: str) -> np.ndarray | None:
        points = person.landmarks[:, :2] * scale
        wrist, elbow = points[MEDIAPIPE_INDEX[f"{side}_wrist"]], points[MEDIAPIPE_INDEX[f"{side}_elbow"]]
        centre = (wrist + points[MEDIAPIPE_INDEX[f"{side}_index"]] + points[MEDIAPIPE_INDEX[f"{side}_pinky"]]) / 3
        torso = person.torso_size * scale
        half = max(CROP_HALF[0] * np.linalg.norm(centre - wrist), CROP_HALF[1] * np.linalg.norm(wrist - elbow),
                   CROP_HALF[2] * torso)
        if not np.isfinite(centre).all() or not np.isfinite(half):
            return None
        x0, y0 = int(round(centre[0] - half)), int(round(centre[1] - half))
        side_px = max(int(round(2 * half)), 8)
        crop = _padded_crop(small, x0, y0, side_px)
        if crop is None:
            return None
        with quiet_stderr(self.quiet):
            result = self._hands.process(cv2.resize(crop, (CROP, CROP), interpolation=cv2.INTER_AREA))
        if not result.multi_hand_landmarks:
            return None
        hand = np.array([(p.x, p.y) for p in result.multi_hand_landmarks[0].landmark]) * side_px + (x0, y0)
        if np.linalg.norm(hand[0] - wrist) > NEAR * torso:
            return None  # someone else's hand, or the pose's hand is nowhere near
        return hand / scale


def _padded_crop(image: np.ndarray, x0: int, y0: int, size: int) -> np.ndarray | None:
    """The size×size square of `image` at (x0, y0), black where it leaves the image; None if wholly outside."""
    height, width = image.shape[:2]
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + size, width), min(y0 + size, height)
    if sx1 <= sx0 or sy1 <= sy0:
        return None
    crop = np.zeros((size, size, 3), np.uint8)
    crop[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return crop

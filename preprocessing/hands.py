"""The followed person's hands as MediaPipe Hands sees them: 21 landmarks each, fingertips included.

The pose's own hand landmarks (wrist, index and pinky knuckles, thumb) stop short of
the fingertips and are sometimes confidently wrong, so what lies beyond them cannot be
told from the pose alone. MediaPipe Hands (its bundled palm detector and hand
landmark models) is run on a square crop around each of the pose's hands; a hand it
finds whose wrist lies within NEAR of the pose's wrist is that hand. What the person
holds is cut out of their mask by nearness to the hands found, and by what a hand, found
or not, parts from the body (preprocessing/instance.py).
"""

from __future__ import annotations

import numpy as np

from humanvid.landmarks import MEDIAPIPE_INDEX
from humanvid.quiet import native_stderr_silenced as quiet_stderr
from preprocessing.crop import crop_affine, from_crop, warp
from preprocessing.pose import Detection, import_mediapipe

# MediaPipe Hands' landmarks: 0 wrist, 1-4 thumb, 5-8 index, 9-12 middle, 13-16 ring, 17-20 little finger (tips 4,
# 8, 12, 16, 20). The bones between them, and the palm's outline.
HAND_BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (9, 10), (10, 11), (11, 12),
    (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20), (5, 9), (9, 13), (13, 17),
)
CROP = 256  # px: the side of each hand's square crop (preprocessing/crop.py) that MediaPipe Hands reads
CROP_HALF = (5.0, 2.0, 0.6)  # half the crop's side: the most of these × (wrist to hand centre, forearm, torso length)
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
             ) -> dict[str, np.ndarray]:
        """The hands of `person` on `sides` found in `small` (the H×W×3 RGB frame scaled by `scale`): side → (21, 2)
        full-frame pixels, for each side where a hand was found."""
        found = {}
        for side in sides:
            hand = self._find_one(small, scale, person, side)
            if hand is not None:
                found[side] = hand
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
        affine = crop_affine(centre, max(2.0 * half, 8.0), CROP)
        with quiet_stderr(self.quiet):
            result = self._hands.process(warp(small, affine, CROP))
        if not result.multi_hand_landmarks:
            return None
        # MediaPipe's normalised coordinates put pixel edges at integers, crop_affine pixel centres
        normalised = np.array([(p.x, p.y) for p in result.multi_hand_landmarks[0].landmark])
        hand = from_crop(normalised * CROP - 0.5, affine)
        if np.linalg.norm(hand[0] - wrist) > NEAR * torso:
            return None  # someone else's hand, or the pose's hand is nowhere near
        return hand / scale

"""MediaPipe Pose's 33 landmarks by name: the order every landmark array in humanvid follows.

Arrays of landmarks are (..., 33, C) in this order; code names the landmarks it picks
(`landmark_indices("left_hip", "right_hip")`) instead of writing their numbers.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

MEDIAPIPE_LANDMARKS: tuple[str, ...] = (
    "nose",
    "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear",
    "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
    "left_pinky", "right_pinky",
    "left_index", "right_index",
    "left_thumb", "right_thumb",
    "left_hip", "right_hip",
    "left_knee", "right_knee",
    "left_ankle", "right_ankle",
    "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)  # fmt: skip

NUM_LANDMARKS = len(MEDIAPIPE_LANDMARKS)
MEDIAPIPE_INDEX: Mapping[str, int] = MappingProxyType({name: index for index, name in enumerate(MEDIAPIPE_LANDMARKS)})


def landmark_indices(*names: str) -> list[int]:
    """The indices of the named landmarks, in the order given."""
    return [MEDIAPIPE_INDEX[name] for name in names]


def mirror_landmark(name: str) -> str:
    """The landmark of the other side ("left_knee" ↔ "right_knee"; central ones unchanged)."""
    for side, other in (("left", "right"), ("right", "left")):
        if name.startswith(side + "_"):
            return other + name[len(side):]
        if name.endswith("_" + side):
            return name[: -len(side)] + other
    return name


# What each landmark becomes in a mirrored image (left and right exchanged), by index.
MIRRORED_LANDMARKS: tuple[int, ...] = tuple(MEDIAPIPE_INDEX[mirror_landmark(name)] for name in MEDIAPIPE_LANDMARKS)

SHOULDERS = landmark_indices("left_shoulder", "right_shoulder")
HIPS = landmark_indices("left_hip", "right_hip")

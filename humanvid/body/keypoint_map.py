"""MediaPipe's 33 pose landmarks expressed with each body model's own keypoints.

Each landmark is a fixed convex combination of a model's native keypoints (joints,
regressed points, vertices) plus a weight saying how well that combination matches
MediaPipe's definition: 1 for well-defined body joints, less where conventions differ
(hips: MediaPipe's sit higher and wider than skeleton hip joints), little for the face and
hands (small, often badly detected), 0 where the model has nothing to offer.

The combination is a (33, K) matrix, so mapping is one differentiable matrix product.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Mapping, Sequence

import torch

from humanvid.landmarks import MEDIAPIPE_INDEX, MEDIAPIPE_LANDMARKS, mirror_landmark

# Weight classes shared by the model specs.
JOINT_WEIGHT = 1.0
FOOT_WEIGHT = 0.8
HEAD_WEIGHT = 0.5
FACE_DETAIL_WEIGHT = 0.2
HAND_WEIGHT = 0.2

# landmark -> ({native keypoint: fraction}, weight)
MappingSpec = Mapping[str, tuple[Mapping[str, float], float]]


@dataclasses.dataclass(frozen=True)
class KeypointMapping:
    """How one model's K native keypoints give MediaPipe's 33 landmarks.

    Attributes:
        native_names: the model's K native keypoint names, in the order of its tensor.
        matrix: (33, K) combination matrix, rows summing to 1 (or 0 for weight-0 rows).
        weights: (33,) confidence of each landmark, in [0, 1].
    """

    native_names: tuple[str, ...]
    matrix: torch.Tensor
    weights: torch.Tensor

    def to(self, dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> "KeypointMapping":
        return KeypointMapping(
            self.native_names, self.matrix.to(dtype=dtype, device=device), self.weights.to(dtype=dtype, device=device)
        )


def build_mapping(spec: MappingSpec, native_names: Sequence[str], dtype: torch.dtype = torch.float32) -> KeypointMapping:
    """Validate a spec and turn it into matrices.

    Landmarks missing from `spec` get weight 0 and a zero row. Raises ValueError for an
    unknown landmark or native keypoint, fractions not summing to 1, or weights outside [0, 1].
    """
    native_index = {name: index for index, name in enumerate(native_names)}
    if len(native_index) != len(native_names):
        raise ValueError("duplicate native keypoint names")
    matrix = torch.zeros(len(MEDIAPIPE_LANDMARKS), len(native_names), dtype=torch.float64)
    weights = torch.zeros(len(MEDIAPIPE_LANDMARKS), dtype=torch.float64)
    for landmark, (combination, weight) in spec.items():
        if landmark not in MEDIAPIPE_INDEX:
            raise ValueError(f"unknown MediaPipe landmark {landmark!r}")
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight of {landmark!r} outside [0, 1]: {weight}")
        if abs(sum(combination.values()) - 1.0) > 1e-6:
            raise ValueError(f"fractions of {landmark!r} do not sum to 1")
        row = MEDIAPIPE_INDEX[landmark]
        for native, fraction in combination.items():
            if native not in native_index:
                raise ValueError(f"{landmark!r} uses unknown native keypoint {native!r}")
            matrix[row, native_index[native]] += fraction
        weights[row] = weight
    return KeypointMapping(tuple(native_names), matrix.to(dtype), weights.to(dtype))


def map_to_mediapipe(native_keypoints: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """(B, K, 3) native keypoints, (33, K) matrix -> (B, 33, 3) MediaPipe-ordered keypoints."""
    return torch.einsum("mk,bkd->bmd", matrix, native_keypoints)


def _symmetric(left_and_central: MappingSpec) -> dict[str, tuple[dict[str, float], float]]:
    """Complete a spec written for the left and central landmarks with the mirrored right side.
    Native names are mirrored the same way ("left_x" / "x_left" / "x.L" conventions)."""
    spec: dict[str, tuple[dict[str, float], float]] = {}
    for landmark, (combination, weight) in left_and_central.items():
        spec[landmark] = (dict(combination), weight)
        mirrored = mirror_landmark(landmark)
        if mirrored != landmark:
            spec[mirrored] = ({_mirror_native(name): f for name, f in combination.items()}, weight)
    return spec


def _mirror_native(name: str) -> str:
    if name.endswith(".L"):
        return name[:-2] + ".R"
    return mirror_landmark(name)


# Anny: its COCO-23 regressor, finger bone heads and a few probed vertices (anny_keypoints.py).
ANNY_SPEC: MappingSpec = MappingProxyType(_symmetric(
    {
        "nose": ({"nose": 1.0}, HEAD_WEIGHT),
        "left_eye_inner": ({"left_eye_inner": 1.0}, FACE_DETAIL_WEIGHT),
        "left_eye": ({"left_eye": 1.0}, HEAD_WEIGHT),
        "left_eye_outer": ({"left_eye_outer": 1.0}, FACE_DETAIL_WEIGHT),
        "left_ear": ({"left_ear": 1.0}, HEAD_WEIGHT),
        "mouth_left": ({"mouth_left": 1.0}, FACE_DETAIL_WEIGHT),
        "left_shoulder": ({"left_shoulder": 1.0}, JOINT_WEIGHT),
        "left_elbow": ({"left_elbow": 1.0}, JOINT_WEIGHT),
        "left_wrist": ({"left_wrist": 1.0}, JOINT_WEIGHT),
        "left_pinky": ({"left_pinky_knuckle": 1.0}, HAND_WEIGHT),
        "left_index": ({"left_index_knuckle": 1.0}, HAND_WEIGHT),
        "left_thumb": ({"left_thumb_knuckle": 1.0}, HAND_WEIGHT),
        # COCO-style hips, close to MediaPipe's but not the same definition.
        "left_hip": ({"left_hip": 1.0}, 0.6),
        "left_knee": ({"left_knee": 1.0}, JOINT_WEIGHT),
        "left_ankle": ({"left_ankle": 1.0}, JOINT_WEIGHT),
        "left_heel": ({"left_heel": 1.0}, FOOT_WEIGHT),
        # MediaPipe's foot index is near the tip of the second toe.
        "left_foot_index": ({"left_big_toe": 0.7, "left_small_toe": 0.3}, FOOT_WEIGHT),
    }
))

# SMPL / SMPL-H / SMPL-X: skeleton joints plus smplx's vertex keypoints (official topologies
# only; see smpl_model.py). Finger knuckles sit about half-way from the wrist to the tip.
_SMPL_COMMON: dict[str, tuple[dict[str, float], float]] = {
    "nose": ({"nose": 1.0}, HEAD_WEIGHT),
    "left_eye_inner": ({"left_eye": 1.0}, 0.1),
    "left_eye": ({"left_eye": 1.0}, HEAD_WEIGHT),
    "left_eye_outer": ({"left_eye": 1.0}, 0.1),
    "left_ear": ({"left_ear": 1.0}, HEAD_WEIGHT),
    "left_shoulder": ({"left_shoulder": 1.0}, JOINT_WEIGHT),
    "left_elbow": ({"left_elbow": 1.0}, JOINT_WEIGHT),
    "left_wrist": ({"left_wrist": 1.0}, JOINT_WEIGHT),
    # SMPL hip joints are the femur heads: lower and more medial than MediaPipe's hips.
    "left_hip": ({"left_hip": 1.0}, 0.3),
    "left_knee": ({"left_knee": 1.0}, JOINT_WEIGHT),
    "left_ankle": ({"left_ankle": 1.0}, JOINT_WEIGHT),
    "left_heel": ({"left_heel": 1.0}, FOOT_WEIGHT),
    "left_foot_index": ({"left_big_toe": 0.7, "left_small_toe": 0.3}, FOOT_WEIGHT),
}

SMPL_SPEC: MappingSpec = MappingProxyType(_symmetric(
    {
        **_SMPL_COMMON,
        "left_pinky": ({"left_wrist": 0.5, "left_pinky_tip": 0.5}, 0.15),
        "left_index": ({"left_wrist": 0.5, "left_index_tip": 0.5}, 0.15),
        "left_thumb": ({"left_wrist": 0.3, "left_thumb_tip": 0.7}, 0.15),
    }
))

SMPLX_SPEC: MappingSpec = MappingProxyType(_symmetric(
    {
        **_SMPL_COMMON,
        "left_pinky": ({"left_pinky1": 1.0}, HAND_WEIGHT),
        "left_index": ({"left_index1": 1.0}, HAND_WEIGHT),
        "left_thumb": ({"left_thumb3": 1.0}, HAND_WEIGHT),
    }
))

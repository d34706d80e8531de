"""Body parts in an image: which ones were seen, each one's region, and how much of it a mesh covers.

Six parts (PARTS): head, torso, left and right arm, left and right leg, each a few skeleton segments
between MediaPipe landmarks ("neck": the shoulders' midpoint, "pelvis": the hips'). A part was *visible*
in a frame when MediaPipe saw each of its key landmarks (visibility ≥ VISIBLE) and each lies inside the
frame. A pixel belongs to the part whose capsule (a radius in torso lengths around its segments, as in
preprocessing/instance.py) has the nearest surface. A visible part's figures compare its region of the
person mask with its region of a mesh's silhouette: IoU, and coverage (the share of the part's mask
pixels the silhouette covers). "Whole where seen": every visible part's IoU ≥ WHOLE_IOU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanvid.geometry.skeleton import named_points, segment_distance
from humanvid.landmarks import MEDIAPIPE_INDEX

VISIBLE = 0.5  # MediaPipe visibility from which a key landmark counts as seen
WHOLE_IOU = 0.7  # part IoU from which a visible part counts as whole in the mesh


@dataclass(frozen=True)
class Part:
    name: str
    key: tuple[str, ...]  # landmarks that must be seen and inside the frame for the part to be visible
    segments: tuple[tuple[str, str], ...]  # its skeleton
    radius: float  # capsule radius [torso lengths: shoulder centre to hip centre]


def _limb(side: str, joints: tuple[str, str, str], ends: tuple[str, ...], radius: float, name: str) -> Part:
    first, middle, last = (f"{side}_{j}" for j in joints)
    segments = ((first, middle), (middle, last), *((last, f"{side}_{end}") for end in ends))
    return Part(f"{side}_{name}", (first, middle, last), segments, radius)


PARTS: tuple[Part, ...] = (
    Part("head", ("nose", "left_eye", "right_eye"),
         (("nose", "left_ear"), ("nose", "right_ear"), ("left_ear", "right_ear"), ("left_eye", "right_eye")), 0.22),
    Part("torso", ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
         (("neck", "pelvis"), ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
          ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip")), 0.18),
    *(_limb(side, ("shoulder", "elbow", "wrist"), ("index", "pinky"), 0.09, "arm") for side in ("left", "right")),
    *(_limb(side, ("hip", "knee", "ankle"), ("heel", "foot_index"), 0.12, "leg") for side in ("left", "right")),
)
PART_NAMES = tuple(part.name for part in PARTS)


def visible_parts(landmarks: np.ndarray, size: tuple[int, int]) -> list[str]:
    """The parts seen in a frame, in PARTS order.

    landmarks: (33, 4) MediaPipe x, y [full-frame px], z, visibility (NaN: no person, nothing visible);
    size: the frame's (width, height) [px]."""
    width, height = size
    seen = []
    for part in PARTS:
        key = landmarks[[MEDIAPIPE_INDEX[name] for name in part.key]]
        with np.errstate(invalid="ignore"):
            inside = (key[:, 0] >= 0) & (key[:, 0] <= width - 1) & (key[:, 1] >= 0) & (key[:, 1] <= height - 1)
            if (key[:, 3] >= VISIBLE).all() and inside.all():
                seen.append(part.name)
    return seen


def part_labels(points: np.ndarray, size: int) -> np.ndarray:
    """(size, size) int8: each pixel's part (an index into PARTS), the one whose capsule surface is nearest.

    points: (33, 2) landmarks in the image's pixels (e.g. the crop's, scaled to `size`)."""
    named = named_points(points)
    torso = float(max(np.linalg.norm(named["neck"] - named["pelvis"]), 1.0))
    distances = np.full((len(PARTS), size, size), np.inf, np.float32)
    for index, part in enumerate(PARTS):
        distance = segment_distance(named, part.segments, (size, size))
        if distance is not None:
            distances[index] = distance / torso - part.radius
    return distances.argmin(axis=0).astype(np.int8)


@dataclass(frozen=True)
class PartScore:
    iou: float  # the part's mask region vs its silhouette region
    coverage: float  # share of the part's mask region inside the silhouette


def part_scores(mask: np.ndarray, silhouette: np.ndarray, labels: np.ndarray, parts: list[str]) -> dict[str, PartScore]:
    """Per part of `parts` with pixels in the mask: its IoU and coverage (mask, silhouette, labels: (S, S),
    the labels from part_labels). A part without mask pixels has no figures (it is left out)."""
    mask, silhouette = np.asarray(mask, bool), np.asarray(silhouette, bool)
    scores = {}
    for name in parts:
        region = labels == PART_NAMES.index(name)
        seen, made = mask & region, silhouette & region
        if not seen.any():
            continue
        scores[name] = PartScore(float((seen & made).sum() / (seen | made).sum()),
                                 float((seen & silhouette).sum() / seen.sum()))
    return scores

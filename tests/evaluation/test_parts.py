"""Body parts in an image (humanvid.evaluation.parts): which were seen, whose pixels are whose, and the figures."""

from __future__ import annotations

import cv2
import numpy as np

from humanvid.evaluation.parts import PART_NAMES, part_labels, part_scores, visible_parts
from humanvid.landmarks import MEDIAPIPE_INDEX

SIZE = 256
STANDING = {  # a person standing, arms down, facing the camera [px of a 256² image]
    "nose": (128, 30), "left_eye": (134, 26), "right_eye": (122, 26), "left_ear": (142, 30), "right_ear": (114, 30),
    "left_shoulder": (150, 60), "right_shoulder": (106, 60), "left_elbow": (160, 100), "right_elbow": (96, 100),
    "left_wrist": (164, 136), "right_wrist": (92, 136), "left_index": (165, 146), "right_index": (91, 146),
    "left_pinky": (168, 144), "right_pinky": (88, 144), "left_hip": (142, 130), "right_hip": (114, 130),
    "left_knee": (144, 180), "right_knee": (112, 180), "left_ankle": (144, 226), "right_ankle": (112, 226),
    "left_heel": (144, 232), "right_heel": (112, 232), "left_foot_index": (150, 236), "right_foot_index": (106, 236),
}


def _landmarks(visibility: float = 0.99) -> np.ndarray:
    landmarks = np.zeros((33, 4))
    for name, index in MEDIAPIPE_INDEX.items():
        landmarks[index, :2] = STANDING.get(name, STANDING["nose"])
        landmarks[index, 3] = visibility
    return landmarks


def test_a_part_is_visible_where_its_landmarks_were_seen_inside_the_frame():
    landmarks = _landmarks()
    assert visible_parts(landmarks, (SIZE, SIZE)) == list(PART_NAMES)
    assert visible_parts(landmarks, (SIZE, 170)) == ["head", "torso", "left_arm", "right_arm"]  # cut at the knees
    landmarks[MEDIAPIPE_INDEX["left_elbow"], 3] = 0.2  # hidden
    assert "left_arm" not in visible_parts(landmarks, (SIZE, SIZE))
    assert visible_parts(np.full((33, 4), np.nan), (SIZE, SIZE)) == []


def test_each_part_gets_the_pixels_near_its_skeleton_and_a_missing_head_scores_zero():
    points = _landmarks()[:, :2]
    labels = part_labels(points, SIZE)
    label = {name: PART_NAMES.index(name) for name in PART_NAMES}
    assert labels[30, 128] == label["head"] and labels[95, 128] == label["torso"]
    assert labels[118, 162] == label["left_arm"] and labels[118, 94] == label["right_arm"]
    assert labels[200, 144] == label["left_leg"] and labels[200, 112] == label["right_leg"]
    mask = np.zeros((SIZE, SIZE), np.uint8)  # the person: thick lines along the skeleton
    for a, b in [("nose", "left_shoulder"), ("nose", "right_shoulder"), ("left_shoulder", "right_hip"),
                 ("right_shoulder", "left_hip"), ("left_shoulder", "left_wrist"), ("right_shoulder", "right_wrist"),
                 ("left_hip", "left_ankle"), ("right_hip", "right_ankle")]:
        cv2.line(mask, STANDING[a], STANDING[b], 1, 12)
    cv2.circle(mask, STANDING["nose"], 16, 1, -1)
    mask = mask.astype(bool)
    whole = part_scores(mask, mask, labels, list(PART_NAMES))
    assert set(whole) == set(PART_NAMES) and all(s.iou == 1.0 and s.coverage == 1.0 for s in whole.values())
    headless = mask & (labels != label["head"])
    scores = part_scores(mask, headless, labels, ["head", "torso", "left_leg"])
    assert scores["head"].iou == 0.0 and scores["head"].coverage == 0.0
    assert scores["torso"].iou == 1.0 and scores["left_leg"].coverage == 1.0
    assert part_scores(np.zeros_like(mask), mask, labels, ["head"]) == {}  # no mask pixels: no figures

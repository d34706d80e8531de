"""People found in one frame, and which of them is the main person.

The main person is, among the people not much smaller than the largest, the
most complete one (body landmarks visible, inside the frame and inside the
region they were found in); among equally complete people, the largest and
most central. The figures compare candidates of one frame only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanvid.landmarks import HIPS, SHOULDERS, landmark_indices
from preprocessing.pose import Detection

# The landmarks whose presence makes a person "whole": head, shoulders, elbows, wrists, hips, knees, ankles.
BODY = landmark_indices("nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
                        "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
VISIBLE = 0.5  # MediaPipe visibility above which a landmark counts as seen
EDGE = 0.01  # landmarks closer than this × the frame's shorter side to an edge count as cut off
CENTRALITY_WEIGHT = 0.3  # a candidate in a corner counts as (1 − this) × as large as one in the middle
MIN_RELATIVE_SIZE = 0.3  # candidates smaller than this × the largest one are not the main person
FRAGMENT_SIZE = 0.5  # a candidate under this × the size of another ...
FRAGMENT_INSIDE = 0.7  # ... with this share of its landmark box inside the other's is a part of them
PHANTOM_COMPLETENESS = 0.25  # a candidate this incomplete, and this much less complete than the best, is no one
SIZE_GAP = 0.5  # candidates this much less complete than the most complete one do not set the size to match
COMPLETENESS_SLACK = 0.1  # candidates this much less complete than the most complete one (1 of 13 landmarks) compete
SAME_PLACE = 0.5  # [the larger torso length] body centres nearer than this are one person (same_person) ...
SAME_SIZE = 1.5  # ... if neither torso is this many times as long as the other

FULL_FRAME = "full frame"
MIRRORED = "full frame, mirrored"
REGIONS = "regions"


@dataclass(eq=False)  # compared by identity
class Candidate:
    """One person found in a frame, and where the search looked to find them."""

    detection: Detection  # full-frame coordinates
    region: tuple[float, float, float, float]  # x0, y0, x1, y1 [full-frame px]: the part of the frame searched
    found_by: str  # FULL_FRAME | MIRRORED | REGIONS
    frame_size: tuple[int, int]  # width, height [px] of the full frame

    @property
    def completeness(self) -> float:
        """Share of the BODY landmarks that are visible and inside both the frame and the searched region, 0..1."""
        width, height = self.frame_size
        margin = EDGE * min(width, height)
        x0, y0, x1, y1 = self.region
        x0, y0 = max(x0, 0.0) + margin, max(y0, 0.0) + margin
        x1, y1 = min(x1, width) - margin, min(y1, height) - margin
        points = self.detection.landmarks[BODY]
        inside = (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)
        return float(np.mean(inside & (points[:, 3] >= VISIBLE)))

    @property
    def size(self) -> float:
        """The torso's length over the frame's shorter side (how large the person appears, whatever their pose)."""
        return self.detection.torso_size / min(self.frame_size)

    @property
    def off_center(self) -> float:
        """Distance of the body centre from the frame centre over half the frame's diagonal, 0 (middle) .. 1."""
        width, height = self.frame_size
        half = np.array([width, height], dtype=np.float64) / 2
        return float(min(np.linalg.norm(self.detection.center - half) / np.linalg.norm(half), 1.0))

    @property
    def prominence(self) -> float:
        """Size, discounted towards the frame's corners: size × (1 − CENTRALITY_WEIGHT × off_center)."""
        return self.size * (1.0 - CENTRALITY_WEIGHT * self.off_center)


def same_person(first, second, reach: float = SAME_PLACE, floor: float = 0.0, size: float = SAME_SIZE):
    """Whether two views show one person (two detections in one frame, two looks at one crop, a person in two
    frames): their body centres (shoulders and hips) within `reach` times the larger torso length (at least
    `floor` px) and neither torso `size` times as long as the other. Left and right exchanged is the same person.

    first, second: Detections (-> bool) or (..., 33, >=2) landmarks [px] (-> (...) bool, broadcast; False where
    either has no landmarks).
    """
    if isinstance(first, Detection) and isinstance(second, Detection):
        return bool(same_person(first.landmarks, second.landmarks, reach, floor, size))
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    centres = [points[..., SHOULDERS + HIPS, :2].mean(axis=-2) for points in (first, second)]
    torsos = [np.maximum(np.linalg.norm(points[..., SHOULDERS, :2].mean(axis=-2) - points[..., HIPS, :2].mean(axis=-2),
                                        axis=-1), 1.0) for points in (first, second)]
    apart = np.linalg.norm(centres[0] - centres[1], axis=-1)
    with np.errstate(invalid="ignore"):
        near = apart < np.maximum(reach * np.maximum(*torsos), floor)
        alike = (torsos[0] < size * torsos[1]) & (torsos[1] < size * torsos[0])
    return near & alike


def add_candidate(candidates: list[Candidate], new: Candidate) -> None:
    """Add `new` to `candidates` in place, unless it is a person already there; then it replaces that entry only
    if at least one more of their BODY landmarks is whole in it (a person seen whole in a larger region keeps
    that view)."""
    for i, old in enumerate(candidates):
        if same_person(old.detection, new.detection):
            if new.completeness > old.completeness + 0.5 / len(BODY):
                candidates[i] = new
            return
    candidates.append(new)


def choose_main(candidates: list[Candidate]) -> Candidate | None:
    """The main person among `candidates`, or None if there are none.

    Of the candidates at least MIN_RELATIVE_SIZE times as large as the largest of those within SIZE_GAP of
    the most complete (background people do not compete with someone filling the frame; a large pose that is
    mostly missing, such as one a tile imagined, does not push a whole person out), those within
    COMPLETENESS_SLACK of the most complete compete; of these the most prominent (largest, most central)
    wins, the first found on ties.
    """
    if not candidates:
        return None
    best = max(c.completeness for c in candidates)
    largest = max(c.size for c in candidates if c.completeness >= best - SIZE_GAP)
    large = [c for c in candidates if c.size >= MIN_RELATIVE_SIZE * largest]
    most = max(c.completeness for c in large)
    whole = [c for c in large if c.completeness >= most - COMPLETENESS_SLACK]
    return max(whole, key=lambda c: c.prominence)  # max keeps the first of equals


def is_fragment(small: Candidate, large: Candidate) -> bool:
    """Whether `small` is a part of `large` seen as a person of its own (a leg or a hand that a small tile showed
    alone): under FRAGMENT_SIZE times as large, its landmark box mostly inside `large`'s, and not more whole
    than `large` (a whole small person is no part of a partial pose imagined around them)."""
    if small.size >= FRAGMENT_SIZE * large.size or small.completeness > large.completeness + COMPLETENESS_SLACK:
        return False
    inner, outer = _landmark_box(small.detection), _landmark_box(large.detection)
    pad = 0.1 * (outer[2:] - outer[:2])
    overlap = np.clip(np.minimum(inner[2:], outer[2:] + pad) - np.maximum(inner[:2], outer[:2] - pad), 0, None)
    return bool(overlap.prod() >= FRAGMENT_INSIDE * max((inner[2:] - inner[:2]).prod(), 1e-9))


def is_phantom(candidate: Candidate, best: float) -> bool:
    """Whether `candidate` is a pose MediaPipe imagined in a region (a floor's pattern, a tile's edge): under
    PHANTOM_COMPLETENESS whole, and that much less complete than the most complete candidate (`best`), so a
    close-up whose best view is as partial still counts."""
    return candidate.completeness < PHANTOM_COMPLETENESS and candidate.completeness < best - PHANTOM_COMPLETENESS


def _landmark_box(detection: Detection) -> np.ndarray:
    """(4,) x0, y0, x1, y1 [px] of a detection's landmarks."""
    points = detection.landmarks[:, :2]
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def rank(candidates: list[Candidate]) -> list[Candidate]:
    """`candidates` ordered as people are numbered (`--person N`): the main person first (choose_main), then the
    main person of those left, and so on; phantoms (is_phantom) and fragments of a larger candidate (is_fragment)
    are left out."""
    best = max((c.completeness for c in candidates), default=0.0)
    real = [c for c in candidates if not is_phantom(c, best)]
    left = [c for c in real if not any(is_fragment(c, other) for other in real if other is not c)]
    ranked = []
    while left:
        ranked.append(choose_main(left))
        left.remove(ranked[-1])
    return ranked

"""The main person of a video: the one who is the main person over the whole video, not in its first frame.

A person who walks in, or whom the frame's edge cuts in the first frames, is still the main person of a
video in which they are the main person most of the time. Up to SAMPLES frames spread evenly over the
selected frames, the first among them, are searched as the first frame with people is (preprocessing/search.py:
the full frame, mirrored where it shows nobody, then tiles down to the first scale that found a whole person)
and each one's people ranked (candidates.rank). People are linked from sampled frame to sampled frame into
identities by position and size (candidates.same_person, its reach and size tolerance growing with the frames
between the two sightings) and appearance (the mean colour of their torso: sightings whose colours differ by
OTHER_LOOKS are not linked); of the links that qualify, the nearest in place and colour are made first. The
identity ranked main in the most sampled frames is followed (ties: seen in more of them, then more complete,
larger and more central over them). The detection pass starts following them in the first frame where the
search finds someone linked to them (preprocessing/person.py: in a sampled frame, their sighting; in another,
the person linked to their sighting nearest in time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import cv2
import numpy as np

from humanvid.landmarks import HIPS, SHOULDERS
from preprocessing.candidates import SAME_PLACE, SAME_SIZE, Candidate, rank, same_person
from preprocessing.pose import Detection
from preprocessing.search import search_frame, shrink
from preprocessing.video import Frame

SAMPLES = 8  # frames searched to choose the main person of a video
REACH_PER_FRAME = 0.25  # [torso lengths] added to same_person's reach per frame between sightings (~7 a second)
GROWTH_PER_FRAME = 0.02  # added to same_person's size tolerance per frame between two sightings
OTHER_LOOKS = 40.0  # [CIELAB] torsos whose mean colours are this far apart belong to different people
TORSO_CORE = 0.7  # the torso's colour is taken inside its quadrilateral shrunk to this about its centre
MIN_PIXELS = 20  # a torso showing fewer person pixels has no colour
UNKNOWN_LOOKS = 0.5  # the colour term of a link where either torso has no colour (0: alike .. 1: OTHER_LOOKS apart)


@dataclass(eq=False)
class Sighting:
    """One person in one sampled frame."""

    index: int  # source frame
    candidate: Candidate
    main: bool  # ranked the frame's main person
    colour: np.ndarray | None  # (3,) mean CIELAB colour of their torso; None where too little of it is seen


@dataclass
class VideoChoice:
    """Who the main person of a video is, and everyone the search found in the frames sampled to tell."""

    sampled: dict[int, list[Candidate]]  # each sampled source frame's people, ranked (candidates.rank)
    chosen: list[Sighting]  # the main person's sightings, in frame order (at least one)

    def searched(self, index: int) -> list[Candidate] | None:
        """Frame `index`'s people as the search ranked them, if it was sampled (None otherwise)."""
        return self.sampled.get(index)

    def linked(self, index: int, candidates: list[Candidate], small: np.ndarray, scale: float) -> Candidate | None:
        """Which of frame `index`'s `candidates` (the frame scaled by `scale` for detection: `small`) is the main
        person: in a sampled frame, their sighting there; in another, the candidate linked to their sighting
        nearest in time (link_cost), if any is."""
        if index in self.sampled:
            return next((s.candidate for s in self.chosen if s.index == index), None)
        nearest = min(self.chosen, key=lambda s: abs(s.index - index))
        costs = [(link_cost(nearest, s), i) for i, s in enumerate(sightings(index, small, scale, candidates))]
        costs = [(cost, i) for cost, i in costs if cost is not None]
        return candidates[min(costs)[1]] if costs else None

    def record(self) -> dict:
        """run.json's account of the choice."""
        return {"chosen": "main person over the sampled frames", "sampled_frames": sorted(self.sampled),
                "main_in_frames": [s.index for s in self.chosen if s.main],
                "seen_in_frames": [s.index for s in self.chosen]}


def sample_frames(indices: Sequence[int], count: int = SAMPLES) -> list[int]:
    """Up to `count` of the selected source frames `indices`, evenly spread from the first to the last."""
    if not len(indices):
        return []
    picks = np.unique(np.linspace(0, len(indices) - 1, min(count, len(indices))).round().astype(int))
    return [int(indices[i]) for i in picks]


def choose(frames: Iterable[Frame], pose) -> VideoChoice | None:
    """The main person over sampled `frames` (full-size RGB), searched with `pose` (a static-image MediaPipe
    Pose); None if the search found nobody in any of them."""
    sampled: dict[int, list[Candidate]] = {}
    seen: list[list[Sighting]] = []
    for frame in frames:
        if frame.image is None:
            continue
        small, scale = shrink(frame.image)
        sampled[frame.index] = rank(search_frame(pose, small, scale))
        seen.append(sightings(frame.index, small, scale, sampled[frame.index]))
    chosen = main_identity(link(seen))
    return None if chosen is None else VideoChoice(sampled, chosen)


def sightings(index: int, small: np.ndarray, scale: float, ranked: list[Candidate]) -> list[Sighting]:
    """Frame `index`'s `ranked` people (the main one first) as sightings, their torso colours read in `small`."""
    return [Sighting(index, c, k == 0, torso_colour(small, scale, c.detection)) for k, c in enumerate(ranked)]


def link(frames: list[list[Sighting]]) -> list[list[Sighting]]:
    """Sightings of consecutive sampled frames linked into identities: each frame's sightings join the
    identities whose latest sighting they can be (link_cost), the least unlike pairs first, one sighting per
    identity and frame; those left start identities of their own."""
    identities: list[list[Sighting]] = []
    for frame in frames:
        pairs = sorted((cost, i, j) for i, identity in enumerate(identities) for j, sighting in enumerate(frame)
                       if (cost := link_cost(identity[-1], sighting)) is not None)
        joined: set[int] = set()
        linked: set[int] = set()
        for _, i, j in pairs:
            if i not in joined and j not in linked:
                identities[i].append(frame[j])
                joined.add(i)
                linked.add(j)
        identities.extend([sighting] for j, sighting in enumerate(frame) if j not in linked)
    return identities


def link_cost(earlier: Sighting, later: Sighting) -> float | None:
    """How unlike two sightings in different frames are, from 0 (same place and colour) to about 2; None where
    they cannot be one person: not candidates.same_person with a reach and size tolerance grown by the frames
    between them, or torso colours OTHER_LOOKS apart."""
    gap = abs(later.index - earlier.index)
    first, second = earlier.candidate.detection, later.candidate.detection
    reach = SAME_PLACE + REACH_PER_FRAME * gap
    if not same_person(first, second, reach, size=SAME_SIZE + GROWTH_PER_FRAME * gap):
        return None
    place = float(np.linalg.norm(first.center - second.center)) / max(first.torso_size, second.torso_size) / reach
    if earlier.colour is None or later.colour is None:
        return place + UNKNOWN_LOOKS
    looks = float(np.linalg.norm(earlier.colour - later.colour)) / OTHER_LOOKS
    return None if looks >= 1.0 else place + looks


def main_identity(identities: list[list[Sighting]]) -> list[Sighting] | None:
    """The identity ranked main in the most sampled frames; ties: seen in the most, then the largest sum of
    completeness × prominence; then the first to appear."""
    def score(identity: list[Sighting]) -> tuple[int, int, float]:
        weight = sum(s.candidate.completeness * s.candidate.prominence for s in identity)
        return sum(s.main for s in identity), len(identity), weight

    return max(identities, key=score, default=None)  # max keeps the first of equals


def torso_colour(small: np.ndarray, scale: float, detection: Detection) -> np.ndarray | None:
    """(3,) mean CIELAB colour (L 0..100) of the person's pixels inside their torso (shoulders and hips, shrunk
    to TORSO_CORE about its centre) in `small` (the frame scaled by `scale`); None if under MIN_PIXELS show."""
    corners = detection.landmarks[SHOULDERS + HIPS[::-1], :2] * scale
    corners = corners.mean(axis=0) + TORSO_CORE * (corners - corners.mean(axis=0))
    if not np.isfinite(corners).all():
        return None
    height, width = small.shape[:2]
    x0, y0 = np.clip(np.floor(corners.min(axis=0)).astype(int), 0, [width, height])
    x1, y1 = np.clip(np.ceil(corners.max(axis=0)).astype(int) + 1, 0, [width, height])
    if x1 <= x0 or y1 <= y0:
        return None
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(inside, [np.round(corners - [x0, y0]).astype(np.int32)], 1)
    if detection.mask.shape == small.shape[:2]:
        inside &= (detection.mask[y0:y1, x0:x1] >= 128).astype(np.uint8)
    pixels = small[y0:y1, x0:x1][inside.astype(bool)]
    if len(pixels) < MIN_PIXELS:
        return None
    lab = cv2.cvtColor(pixels.reshape(1, -1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return lab.reshape(-1, 3).mean(axis=0).astype(np.float64)

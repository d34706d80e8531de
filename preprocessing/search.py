"""Searching one frame for people: the full frame, then overlapping square regions at decreasing scales.

MediaPipe's person detector sees the whole frame shrunk to 224×224 and reports
one person: people small in a wide frame (a montage, a crowd) go unseen, and of
several only one is found. Square tiles whose side is a fraction of the
frame's shorter side, overlapping by half, show each person larger and alone
more often; every tile's person, mapped back to the frame, is a candidate.
Scales are searched from the largest down and the search stops after the first
scale that has found a whole person: smaller tiles find smaller people, who
are rarely the main person when a whole one is already in view, and they cost
most of the calls (about 2 s for all scales of a 1280-pixel frame). Telling
everyone apart (`exhaustive`, for `--person` and `--all-people`) searches every
scale; the last such search is remembered, so people's runs over the same frame
number them alike without searching it again.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from preprocessing.candidates import FULL_FRAME, MIRRORED, REGIONS, Candidate, add_candidate
from preprocessing.pose import Detection, run_pose, run_pose_in, run_pose_mirrored

MAX_DETECTION_SIDE = 1280  # larger frames are downscaled for detection, results mapped back
TILE_FRACTIONS = (1.0, 0.6, 0.36)  # tile side over the frame's shorter side, largest first
MIN_TILE = 128  # [px of the detection image] smaller tiles are not searched
WHOLE = 0.8  # a candidate with this completeness ends the search after its scale


def shrink(image: np.ndarray) -> tuple[np.ndarray, float]:
    """An H×W×3 frame as detection sees it: scaled so that its longer side is at most MAX_DETECTION_SIDE, and the
    scale (1 for smaller frames, which are returned as they are)."""
    scale = min(1.0, MAX_DETECTION_SIDE / max(image.shape[:2]))
    if scale == 1.0:
        return image, scale
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def tiles(width: int, height: int, fraction: float) -> list[tuple[int, int, int, int]]:
    """Square regions (x0, y0, x1, y1) [px] of side `fraction` × min(width, height), overlapping by half and
    covering the whole frame, row by row; none if the side is under MIN_TILE or the tile is the whole frame."""
    side = int(round(fraction * min(width, height)))
    if side < MIN_TILE or (side >= width and side >= height):
        return []
    return [(x, y, x + side, y + side) for y in _starts(height, side) for x in _starts(width, side)]


def _starts(length: int, side: int) -> list[int]:
    """Start positions of tiles of `side` along `length`, half a tile apart, the last one flush with the end."""
    if side >= length:
        return [0]
    count = int(np.ceil((length - side) / (side / 2))) + 1
    return [int(round(i * (length - side) / (count - 1))) for i in range(count)]


_last_exhaustive: tuple[str, list[Candidate]] | None = None  # the last exhaustive search: its key and result


def search_frame(pose, small: np.ndarray, scale: float, full: Detection | None = None,
                 fractions: tuple[float, ...] = TILE_FRACTIONS, exhaustive: bool = False) -> list[Candidate]:
    """Every person found in a frame, in the order found (duplicates merged by preprocessing.candidates).

    pose: a static-image MediaPipe Pose; small: the H×W×3 RGB frame scaled by `scale` for detection;
    full: the result of `pose` on the whole of `small` if the caller already has it. The full frame is
    tried as is and, if nobody is found, mirrored; then the tiles of each of `fractions` in turn, all of them
    if `exhaustive`, else up to the first that found a whole person.
    """
    global _last_exhaustive
    if exhaustive:
        key = hashlib.sha1(np.ascontiguousarray(small).data).hexdigest() + f"{small.shape}{scale}{fractions}"
        if _last_exhaustive is not None and _last_exhaustive[0] == key:
            return list(_last_exhaustive[1])
        found = _search(pose, small, scale, full, fractions, exhaustive)
        _last_exhaustive = (key, found)
        return list(found)
    return _search(pose, small, scale, full, fractions, exhaustive)


def _search(pose, small: np.ndarray, scale: float, full: Detection | None, fractions: tuple[float, ...],
            exhaustive: bool) -> list[Candidate]:
    height, width = small.shape[:2]
    frame_size = (int(round(width / scale)), int(round(height / scale)))
    whole_frame = (0.0, 0.0, float(frame_size[0]), float(frame_size[1]))
    candidates: list[Candidate] = []
    if full is None:
        full = run_pose(pose, small, scale)
    if full is not None:
        add_candidate(candidates, Candidate(full, whole_frame, FULL_FRAME, frame_size))
    else:
        mirrored = run_pose_mirrored(pose, small, scale)
        if mirrored is not None:
            add_candidate(candidates, Candidate(mirrored, whole_frame, MIRRORED, frame_size))
    for fraction in fractions:
        for box in tiles(width, height, fraction):
            found = run_pose_in(pose, small, scale, box)
            if found is not None:
                region = tuple(float(v) / scale for v in box)
                add_candidate(candidates, Candidate(found, region, REGIONS, frame_size))
        if not exhaustive and any(c.completeness >= WHOLE for c in candidates):
            break
    return candidates

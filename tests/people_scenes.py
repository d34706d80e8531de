"""Scenes of several real people for the tests: copies of the person in turnaround_24frames.mp4 (on white), pasted
side by side into one frame, and where each copy's own pixels are."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from helpers import real_media
from preprocessing.video import iter_frames, probe

PAIR_SIZE = (1280, 720)  # width, height [px] of the pair scene
PAIR = ((18, 150), (6, 430))  # (turnaround frame, left edge x [px]) of each copy: facing the camera, seen from behind
PAIR_TOP, PAIR_HEIGHT = 40, 640  # [px] where the copies' frames start and how tall they are pasted


@lru_cache(maxsize=1)
def turnaround() -> dict[int, np.ndarray]:
    """The turnaround clip's frames by index, H×W×3 RGB."""
    return {f.index: f.image for f in iter_frames(probe(real_media("turnaround_24frames.mp4")))}


def paste(canvas: np.ndarray, person: np.ndarray, height: int, x: int, y: int) -> None:
    """Paste `person` (on white) scaled to `height` px with its top-left corner at (x, y), clipped to the canvas;
    darker wins where copies overlap."""
    k = height / person.shape[0]
    scaled = cv2.resize(person, (round(person.shape[1] * k), height), interpolation=cv2.INTER_AREA)
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + scaled.shape[1], canvas.shape[1]), min(y + scaled.shape[0], canvas.shape[0])
    canvas[y0:y1, x0:x1] = np.minimum(canvas[y0:y1, x0:x1], scaled[y0 - y:y1 - y, x0 - x:x1 - x])


def pair_scene() -> np.ndarray:
    """(720, 1280, 3) RGB: two copies of the person side by side, the left one's hand over the right one's."""
    canvas = np.full((PAIR_SIZE[1], PAIR_SIZE[0], 3), 255, np.uint8)
    for frame, x in PAIR:
        paste(canvas, turnaround()[frame], PAIR_HEIGHT, x, PAIR_TOP)
    return canvas


def pair_silhouettes() -> list[np.ndarray]:
    """(720, 1280) bool per copy, left then right: the pixels that copy would darken if pasted alone."""
    out = []
    for frame, x in PAIR:
        alone = np.full((PAIR_SIZE[1], PAIR_SIZE[0], 3), 255, np.uint8)
        paste(alone, turnaround()[frame], PAIR_HEIGHT, x, PAIR_TOP)
        out.append(alone.min(axis=2) < 200)
    return out


def only(silhouettes: list[np.ndarray], k: int) -> np.ndarray:
    """Copy k's pixels that no other copy covers."""
    others = np.logical_or.reduce([s for i, s in enumerate(silhouettes) if i != k])
    return silhouettes[k] & ~others


RISING_FRAMES = 10  # frames of the rising scene
RISING = (18, 6)  # turnaround frames of its people: A (facing the camera), B (seen from behind)


def rising_scene(t: int) -> np.ndarray:
    """(720, 1280, 3) RGB frame `t` of RISING_FRAMES: person A on the left rises into view from below (cut at the
    thighs by the bottom edge in the first frames, whole, large and nearly central from frame 3 on) while person
    B, whole from the start and the main person of the first frames, walks away to the right, growing smaller."""
    canvas = np.full((PAIR_SIZE[1], PAIR_SIZE[0], 3), 255, np.uint8)
    rise = min(t / 3, 1.0)
    a_height, a_top, a_centre = round(700 - 60 * rise), round(260 - 220 * rise), 300 + 20 * t
    b_height, b_centre = round(520 - 10 * t), 800 + 28 * t
    for frame, height, centre, top in ((RISING[0], a_height, a_centre, a_top), (RISING[1], b_height, b_centre, 100)):
        person = turnaround()[frame]
        paste(canvas, person, height, round(centre - height * person.shape[1] / person.shape[0] / 2), top)
    return canvas

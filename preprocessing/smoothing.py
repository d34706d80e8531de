"""Temporal smoothing without lag: One-Euro on landmarks, smooth crop boxes.

The whole track is known before crops are cut, so filters run forwards and
backwards and the two passes are averaged: zero phase, no lag behind fast motion.
"""

from __future__ import annotations

import math

import numpy as np

from humanvid.landmarks import HIPS, SHOULDERS


class OneEuroFilter:
    """One-Euro filter (Casiez et al. 2012) over arrays of any shape.

    min_cutoff [Hz] sets smoothing at rest; beta raises the cutoff with speed,
    so fast motion is followed with little lag. Values are in the caller's units
    per second; normalise them to a sensible scale first.
    """

    def __init__(self, rate: float, min_cutoff: float = 1.0, beta: float = 0.5, derivative_cutoff: float = 1.0):
        self.rate = rate
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivative_cutoff = derivative_cutoff
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def _alpha(self, cutoff):
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau * self.rate)

    def __call__(self, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if self._value is None:
            self._value, self._speed = value.copy(), np.zeros_like(value)
            return value.copy()
        speed = (value - self._value) * self.rate
        a_d = self._alpha(self.derivative_cutoff)
        self._speed = a_d * speed + (1.0 - a_d) * self._speed
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        a = self._alpha(cutoff)
        self._value = a * value + (1.0 - a) * self._value
        return self._value.copy()


def fill_gaps(track: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Linearly interpolate invalid entries of a (T, ...) track from valid neighbours."""
    track = np.array(track, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    if valid.all() or not valid.any():
        return track
    times = np.arange(len(track))
    flat = track.reshape(len(track), -1)
    for column in range(flat.shape[1]):
        flat[~valid, column] = np.interp(times[~valid], times[valid], flat[valid, column])
    return flat.reshape(track.shape)


def one_euro_zero_phase(track: np.ndarray, rate: float, min_cutoff: float = 1.0, beta: float = 0.5) -> np.ndarray:
    """Average of a forward and a backward One-Euro pass over a (T, ...) track."""
    forward = OneEuroFilter(rate, min_cutoff, beta)
    backward = OneEuroFilter(rate, min_cutoff, beta)
    ahead = np.stack([forward(x) for x in track])
    behind = np.stack([backward(x) for x in track[::-1]])[::-1]
    return 0.5 * (ahead + behind)


def smooth_landmarks(landmarks: np.ndarray, valid: np.ndarray, rate: float) -> np.ndarray:
    """Smooth (T, 33, 2) pixel landmarks; gaps are bridged, the result has no lag.

    Landmarks are filtered in units of the person's median torso length, so the
    same settings work for a person near or far from the camera.
    """
    if not np.any(valid):
        return np.array(landmarks, dtype=np.float64)
    filled = fill_gaps(landmarks, valid)
    shoulders = filled[:, SHOULDERS].mean(axis=1)
    hips = filled[:, HIPS].mean(axis=1)
    unit = float(np.median(np.linalg.norm(shoulders - hips, axis=-1)[valid])) or 1.0
    return one_euro_zero_phase(filled / unit, rate, min_cutoff=1.5, beta=0.3) * unit


def smooth_boxes(extents: np.ndarray, valid: np.ndarray, rate: float, fill: float = 0.8,
                 margin: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Square crop boxes that follow the person smoothly.

    extents: (T, 4) raw person boxes x0, y0, x1, y1 [px]; valid: (T,) frames with a person.
    The centre is Gaussian-smoothed over ~0.1 s. The side is what makes the person
    `fill` of the crop, or larger where needed to keep the raw person box inside
    `margin` of the crop around the smoothed centre; it follows a running maximum
    of that need, smoothed over ~0.3 s, so the crop neither pumps in scale nor cuts
    off a quickly raised arm.
    Returns (T, 2) centres and (T,) sides [px].
    """
    # scipy.ndimage takes 0.2 s to import: not before it is needed
    from scipy.ndimage import gaussian_filter1d, maximum_filter1d

    extents = fill_gaps(extents, valid)
    centers = 0.5 * (extents[:, :2] + extents[:, 2:])
    smooth_centers = gaussian_filter1d(centers, max(0.1 * rate, 1.0), axis=0, mode="nearest")
    sides = (extents[:, 2:] - extents[:, :2]).max(axis=1) / fill
    reach = 2.0 * np.abs(extents - np.tile(smooth_centers, 2)).max(axis=1) / margin
    needed = np.maximum(sides, reach)
    sigma_side = max(0.3 * rate, 1.0)
    window = 2 * int(round(sigma_side)) + 1
    smooth_sides = gaussian_filter1d(maximum_filter1d(needed, window, mode="nearest"), sigma_side, mode="nearest")
    return smooth_centers, smooth_sides


def second_difference_std(values: np.ndarray) -> float:
    """Standard deviation of the second temporal difference of a (T, D) track (jitter)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 3:
        return 0.0
    return float(np.std(np.diff(values, n=2, axis=0)))


def box_support(rate: float) -> int:
    """How many frames before and after a frame can change its smoothed box (see smooth_boxes)."""
    radius_center = int(4.0 * max(0.1 * rate, 1.0) + 0.5)  # scipy's gaussian truncate=4
    sigma_side = max(0.3 * rate, 1.0)
    radius_side = int(4.0 * sigma_side + 0.5)
    return radius_center + int(round(sigma_side)) + radius_side


def box_settled(valid: np.ndarray, frame: int, support: int) -> int | None:
    """Whether frame `frame`'s smoothed box is final although only len(valid) frames are known.

    Returns the first frame of a track slice on which smooth_boxes gives exactly
    the box of the whole track for this frame, or None if later frames can still
    change it. Frames within `support` must be known, and every gap near the
    frame must be closed on both sides inside the slice (gaps are interpolated).
    """
    known = len(valid)
    if frame + support >= known:
        return None
    low, high = max(frame - support, 0), frame + support
    start = max(frame - 3 * support, 0)
    gaps = np.flatnonzero(~valid[low:high + 1]) + low
    if len(gaps):
        after = np.flatnonzero(valid[gaps[-1] + 1:])
        if len(after) == 0:
            return None  # the gap may go on: its far end is not known yet
        before = np.flatnonzero(valid[:gaps[0]])
        start = min(start, before[-1] if len(before) else 0)
    return start

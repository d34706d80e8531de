"""Clips of the turn family: people who turn (on the spot, walking a circle, on a turntable) and people who do not.

The turning kinds (:data:`TURNING_KINDS`) turn the whole body about the vertical by
well over 120° during the clip:

- ``turn_in_place``: standing and stepping round on the spot, 140–360°, eased in and out;
- ``walk_circle``: walking forwards along a circle, 150–330° of it at a steady pace;
- ``turntable``: standing still in Anny's A-pose while turned a full 360° at a constant
  rate (frame i at i/T of the circle), like a turntable capture.

The other kinds of the family are the steady motions of :data:`humanvid.synth.poses.CLIP_KINDS`
(all but ``turn``), which keep facing one way. :func:`sample_turn_family_clip` picks a turning
kind 60 % of the time. Yaw and the walking offsets go into the :class:`Clip` like any other
clip's; ``humanvid.synth.facing`` measures the resulting facing range from the posed body.
"""

from __future__ import annotations

import numpy as np

from humanvid.synth.poses import CLIP_KINDS, Angles, Clip, PoseSpace, sample_clip, smooth_variation, walk

TURNING_KINDS = ("turn_in_place", "walk_circle", "turntable")
STEADY_KINDS = tuple(kind for kind in CLIP_KINDS if kind != "turn")
TURNING_SHARE = 0.6
MIN_RADIUS = 0.35  # tightest circle walked [m]


def sample_turn_family_clip(rng: np.random.Generator, space: PoseSpace, frames: int = 48, kind: str | None = None,
                            fps: float = 24.0) -> Clip:
    """A clip of the turn family: a turning kind (60 %) or a steady one; ``kind`` forces one of either."""
    if kind is None:
        turning = rng.random() < TURNING_SHARE
        kind = str(rng.choice(TURNING_KINDS if turning else STEADY_KINDS))
    if kind in TURNING_KINDS:
        return turning_clip(rng, space, frames, kind, fps)
    return sample_clip(rng, space, frames, kind, fps)


def turning_clip(rng: np.random.Generator, space: PoseSpace, frames: int, kind: str, fps: float = 24.0) -> Clip:
    """A clip of one of :data:`TURNING_KINDS` over ``frames`` frames at ``fps``."""
    if kind not in TURNING_KINDS:
        raise ValueError(f"unknown turning clip kind {kind!r}; use one of {', '.join(TURNING_KINDS)}")
    t = np.arange(frames) / fps
    duration = max(t[-1], 1.0 / fps)
    direction = 1.0 if rng.random() < 0.5 else -1.0  # + : counter-clockwise seen from above (a left turn)
    offsets = np.zeros((frames, 3))
    noise_seed = int(rng.integers(2**31))
    if kind == "turn_in_place":
        total = np.radians(rng.uniform(140, 360))
        period, stride = rng.uniform(0.8, 1.1), rng.uniform(0.15, 0.35)
        u = t / duration
        yaw = direction * total * u * u * (3 - 2 * u)
        arm_swing = rng.uniform(0.2, 0.5)
        angles = [walk(x / period, stride, arm_swing) for x in t]
    elif kind == "walk_circle":
        total = np.radians(rng.uniform(150, 330))
        speed = rng.uniform(0.5, 0.9)  # m/s
        rate = total / duration  # rad/s
        speed = max(speed, MIN_RADIUS * rate)
        stride, period = float(np.clip(speed / 0.8, 0.6, 1.1)), rng.uniform(0.9, 1.2)
        swing = rng.uniform(0.5, 1.1)
        yaw = direction * rate * t
        radius = speed / rate
        # Facing (sin yaw, −cos yaw) integrated at `speed`: a circle through the start, turning with the yaw.
        offsets[:, 0] = direction * radius * (1.0 - np.cos(yaw))
        offsets[:, 1] = -radius * np.sin(direction * yaw)
        angles = [walk(x / period + 0.1, stride, swing) for x in t]
    else:  # "turntable"
        yaw = direction * 2 * np.pi * np.arange(frames) / frames
        arms = rng.uniform(-8, 8)
        pose: Angles = {"upperarm01.L": (0.0, arms, 0.0), "upperarm01.R": (0.0, arms, 0.0),
                        "upperleg01.L": (0.0, 2.0, 0.0), "upperleg01.R": (0.0, 2.0, 0.0)}
        angles = [pose for _ in t]
    angles = smooth_variation(np.random.default_rng(noise_seed), angles, t)
    if kind == "turntable":  # a turntable capture: the pose holds still, only the slow per-person offset stays
        angles = [angles[0] for _ in t]
    rotations = np.stack([space.rotations(a) for a in angles])
    return Clip(kind, rotations, yaw, offsets)

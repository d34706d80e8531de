"""Which way a person faces, about the vertical: per frame, and its range over a clip.

The facing direction is the horizontal perpendicular to the body's left–right axis,
the mean of the shoulder line and the hip line (MediaPipe landmarks 11/12 and 23/24,
the person's own left and right), so it follows the trunk whatever the arms, legs and
head do, and a forward bend does not change it. Yaw is measured in Anny's world frame
(z up): 0 when the person faces −y, increasing counter-clockwise seen from above (the
sense of ``humanvid.synth.bodies.place_on_floor``'s yaw).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP = 11, 12, 23, 24


def facing_yaw(landmarks: np.ndarray) -> np.ndarray:
    """(T,) facing yaw [rad] of MediaPipe landmarks (T, 33, 3) in a z-up frame, unwrapped over the frames.

    Unwrapping takes the shorter way between neighbouring frames, so a clip must turn less
    than 180° from one frame to the next.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64).reshape(-1, 33, 3)
    left = (landmarks[:, LEFT_SHOULDER] - landmarks[:, RIGHT_SHOULDER]) + (landmarks[:, LEFT_HIP] - landmarks[:, RIGHT_HIP])
    forward = np.cross(left, np.array([0.0, 0.0, 1.0]))
    return np.unwrap(np.arctan2(forward[:, 0], -forward[:, 1]))


def yaw_range_deg(landmarks: np.ndarray) -> float:
    """Range [degrees] of the facing yaw over the frames of landmarks (T, 33, 3), z-up frame: max − min."""
    yaw = facing_yaw(landmarks)
    return float(np.degrees(yaw.max() - yaw.min()))


def camera_to_world(points: np.ndarray, world_to_camera: np.ndarray) -> np.ndarray:
    """(..., 3) camera-frame points back to the world frame of a rigid (4, 4) world → camera transform."""
    rotation, translation = world_to_camera[:3, :3], world_to_camera[:3, 3]
    return (np.asarray(points, dtype=np.float64) - translation) @ rotation


def clip_yaw_range_deg(body_path: str | Path) -> float:
    """The facing range [degrees] of a synthetic clip, from its ``body.npz`` (any split, any clip).

    Clips of the turn family also record it in ``clip.json`` as ``yaw_range_deg``.
    """
    with np.load(body_path) as body:
        keypoints, world_to_camera = body["keypoints"], body["world_to_camera"]
    return yaw_range_deg(camera_to_world(keypoints, world_to_camera))

"""SMPL / SMPL-X body pose: joint frames and limits for the pose prior.

SMPL's rest pose is a T-pose in its native frame (x = the body's left, y = up, z = the
front), and each joint's axis-angle is expressed in axes that coincide with those at
rest. The limits are boxes on (bend, side, twist) components in fixed frames chosen like
Anny's (anny_pose.py) so that the components mean the same for the legs and the trunk:

- spine1/2/3, neck, head: bend + = forward flexion, side + = lean to the body's left.
- hips: bend + = extension (flexion negative), side + = abduction (left).
- knees: bend + = flexion.  ankles: bend + = plantar flexion (toes down).
- left arm (along +x at rest): bend + = the arm / forearm forwards (elbow flexion is
  positive, as in SMPLify's elbow prior), side + = lowering the arm (adduction from the
  T-pose), twist about the bone.
Right-side frames mirror the left ones: bend keeps its meaning, side and twist flip sign.
"""

from __future__ import annotations

import math

import torch

# (bend, side, twist) axes as columns, in SMPL axes, for the left and central joints.
_X, _Y, _Z = torch.eye(3, dtype=torch.float64).unbind(0)
_TRUNK_FRAME = torch.stack([_X, -_Z, _Y], dim=1)
_LEG_FRAME = torch.stack([_X, _Z, -_Y], dim=1)
_LEFT_ARM_FRAME = torch.stack([-_Y, -_Z, _X], dim=1)

_FRAMES: dict[str, torch.Tensor] = {
    "spine1": _TRUNK_FRAME, "spine2": _TRUNK_FRAME, "spine3": _TRUNK_FRAME,
    "neck": _TRUNK_FRAME, "head": _TRUNK_FRAME, "jaw": _TRUNK_FRAME,
    "left_hip": _LEG_FRAME, "left_knee": _LEG_FRAME, "left_ankle": _LEG_FRAME, "left_foot": _LEG_FRAME,
    "left_collar": _LEFT_ARM_FRAME, "left_shoulder": _LEFT_ARM_FRAME, "left_elbow": _LEFT_ARM_FRAME,
    "left_wrist": _LEFT_ARM_FRAME, "left_hand": _LEFT_ARM_FRAME,
}  # fmt: skip

# Degrees, relative to the T-pose, for the left and central joints.
_LIMITS_DEG: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "spine1": ((-25.0, 40.0), (-20.0, 20.0), (-20.0, 20.0)),
    "spine2": ((-20.0, 35.0), (-20.0, 20.0), (-25.0, 25.0)),
    "spine3": ((-20.0, 30.0), (-15.0, 15.0), (-20.0, 20.0)),
    "neck": ((-40.0, 45.0), (-30.0, 30.0), (-50.0, 50.0)),
    "head": ((-30.0, 30.0), (-20.0, 20.0), (-30.0, 30.0)),
    "left_hip": ((-125.0, 30.0), (-30.0, 50.0), (-40.0, 40.0)),
    "left_knee": ((-2.0, 150.0), (-5.0, 5.0), (-25.0, 25.0)),
    "left_ankle": ((-25.0, 50.0), (-25.0, 25.0), (-20.0, 20.0)),
    "left_foot": ((-20.0, 20.0), (-10.0, 10.0), (-10.0, 10.0)),
    "left_collar": ((-20.0, 20.0), (-30.0, 15.0), (-15.0, 15.0)),
    "left_shoulder": ((-60.0, 135.0), (-100.0, 95.0), (-90.0, 90.0)),
    "left_elbow": ((-5.0, 150.0), (-10.0, 10.0), (-90.0, 90.0)),
    "left_wrist": ((-70.0, 70.0), (-60.0, 60.0), (-30.0, 30.0)),
    "left_hand": ((-20.0, 20.0), (-20.0, 20.0), (-20.0, 20.0)),
}
_MIN_PRIOR_STD_DEG = 5.0
_MIRROR_X = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))


def _mirror(name: str) -> str:
    if name.startswith("right_"):
        return "left_" + name[len("right_"):]
    if name.startswith("left_"):
        return "right_" + name[len("left_"):]
    return name


def pose_frames_and_limits(joint_names: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Frames and limits of SMPL's posable joints (the names after the root).

    Returns:
        frames (P, 3, 3) float64, lower and upper (P, 3) radians, float64.
    """
    frames, lower, upper = [], [], []
    for name in joint_names:
        base = name if name in _FRAMES else _mirror(name)
        if base not in _FRAMES:
            raise KeyError(f"no joint frame for SMPL joint {name!r}")
        (bend, side, twist) = _LIMITS_DEG[base]
        frame = _FRAMES[base]
        if base != name:  # right side: mirrored frame [-M b, M s, M t], side/twist ranges flipped
            frame = _MIRROR_X @ frame
            frame = torch.stack([-frame[:, 0], frame[:, 1], frame[:, 2]], dim=1)
            side, twist = (-side[1], -side[0]), (-twist[1], -twist[0])
        frames.append(frame)
        lower.append([bend[0], side[0], twist[0]])
        upper.append([bend[1], side[1], twist[1]])
    to_radians = math.pi / 180.0
    return (
        torch.stack(frames),
        torch.tensor(lower, dtype=torch.float64) * to_radians,
        torch.tensor(upper, dtype=torch.float64) * to_radians,
    )


def prior_std_from_limits(lower: torch.Tensor, upper: torch.Tensor) -> torch.Tensor:
    """A quarter of each range, at least 5 degrees."""
    return ((upper - lower) / 4.0).clamp_min(math.radians(_MIN_PRIOR_STD_DEG))

"""Anny's compact pose: which bones move, their anatomical frames and joint limits.

The compact pose is one axis-angle vector per bone of :data:`COMPACT_BONES`, in Anny's
`local-ref` convention: a rotation of the bone about its head, in axes that coincide with
Anny's world axes when its parents are at rest (x: the body's left, y: backwards, z: up).
The other bones (pelvis, twist bones, fingers, toes, face) stay at rest.

Anny's rest pose is a relaxed A-pose: arms about 45 degrees below horizontal, elbows
bent about 45 degrees with the hands in front of the hips, legs straight.

Joint limits are boxes on each rotation's components in a per-bone anatomical frame
(bend, side, twist) built from the rest skeleton (see :func:`joint_frames`). Measured
conventions of positive rotations (Anny 0.6.2, checked in tests/body/test_body_anny.py),
for the left and central bones:

- spine04/02/01, neck01, head: bend = forward flexion, side = lean to the body's left,
  twist = turn towards the body's left (counter-clockwise seen from above).
- clavicle: bend = elevation (shoulder up), side = protraction (shoulder forwards).
- upperarm01 (shoulder): bend = extension (arm backwards; flexion is negative),
  side = abduction (arm raised sideways).
- lowerarm01 (elbow): bend = flexion (hand towards the shoulder).
- wrist: bend = palmar flexion (the palm faces the thigh at rest), side = ulnar deviation.
- upperleg01 (hip): bend = extension (thigh backwards; flexion is negative),
  side = abduction.
- lowerleg01 (knee): bend = flexion (foot towards the buttock).
- foot (ankle): bend = plantar flexion (toes down), side = toes outwards, twist = roll
  about the foot's long axis.
- twist of the thigh, shank and upper arm = internal (medial) rotation: the toes or the
  hand turn towards the body's midline.

Right-side frames are mirror images of the left ones, so bend keeps its meaning on the
right while side and twist change sign (on the right, side + = adduction); the right limits
are the left ones mirrored accordingly.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Mapping

import torch

from humanvid.body.rotations import rigid_matrix

# The posable bones, parents before children.
COMPACT_BONES: tuple[str, ...] = (
    "spine04", "spine02", "spine01", "neck01", "head",
    "clavicle.L", "upperarm01.L", "lowerarm01.L", "wrist.L",
    "clavicle.R", "upperarm01.R", "lowerarm01.R", "wrist.R",
    "upperleg01.L", "lowerleg01.L", "foot.L",
    "upperleg01.R", "lowerleg01.R", "foot.R",
)  # fmt: skip

# How each left / central bone's frame is built from rest bone heads: the twist axis runs
# from the bone's head to the head of `end` (None: straight up), and the bend axis is the
# `bend` reference made orthogonal to it.
#   "lateral": the x axis (body's left), for sagittal hinges (spine, hip, knee, ankle, shoulder);
#   "forward": the -y axis (the body's front), for the clavicle's elevation;
#   "elbow": the elbow's hinge, normal to the upper arm and the forearm;
#   "palm": across the knuckles, from the index to the little finger.
_FRAME_SPECS: dict[str, tuple[str | None, str]] = {
    "spine04": (None, "lateral"),
    "spine02": (None, "lateral"),
    "spine01": (None, "lateral"),
    "neck01": (None, "lateral"),
    "head": (None, "lateral"),
    "clavicle.L": ("upperarm01.L", "forward"),
    "upperarm01.L": ("lowerarm01.L", "lateral"),
    "lowerarm01.L": ("wrist.L", "elbow"),
    "wrist.L": ("finger3-1.L", "palm"),
    "upperleg01.L": ("lowerleg01.L", "lateral"),
    "lowerleg01.L": ("foot.L", "lateral"),
    "foot.L": ("toe3-1.L", "lateral"),
}

# Joint limits in degrees: (bend, side, twist) ranges, for the left and central bones.
# Ranges are relative to Anny's rest pose (so the elbow, already bent ~45 degrees at rest,
# can straighten by -45 and bend a further 100).
JOINT_LIMITS_DEG: Mapping[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = MappingProxyType({
    "spine04": ((-25.0, 40.0), (-20.0, 20.0), (-20.0, 20.0)),
    "spine02": ((-20.0, 35.0), (-20.0, 20.0), (-25.0, 25.0)),
    "spine01": ((-20.0, 30.0), (-15.0, 15.0), (-20.0, 20.0)),
    "neck01": ((-40.0, 45.0), (-30.0, 30.0), (-50.0, 50.0)),
    "head": ((-30.0, 30.0), (-20.0, 20.0), (-30.0, 30.0)),
    "clavicle.L": ((-10.0, 30.0), (-20.0, 20.0), (-15.0, 15.0)),
    "upperarm01.L": ((-150.0, 60.0), (-60.0, 135.0), (-90.0, 90.0)),
    "lowerarm01.L": ((-45.0, 100.0), (-10.0, 10.0), (-80.0, 80.0)),
    "wrist.L": ((-60.0, 75.0), (-20.0, 30.0), (-15.0, 15.0)),
    "upperleg01.L": ((-125.0, 30.0), (-30.0, 50.0), (-40.0, 40.0)),
    "lowerleg01.L": ((-2.0, 150.0), (-5.0, 5.0), (-25.0, 25.0)),
    "foot.L": ((-25.0, 50.0), (-25.0, 25.0), (-20.0, 20.0)),
})

# Standard deviations (degrees) of the weak Gaussian pose prior around the rest pose, per
# (bend, side, twist) component. Taken as a quarter of each limit range at least 5 degrees.
_MIN_PRIOR_STD_DEG = 5.0


def mirrored_name(bone: str) -> str:
    """The bone's mirror image: "x.L" <-> "x.R"; central bones are their own mirror."""
    if bone.endswith(".L"):
        return bone[:-2] + ".R"
    if bone.endswith(".R"):
        return bone[:-2] + ".L"
    return bone


def joint_limits_deg() -> dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]]:
    """Limits of every compact bone, the right side mirrored from the left."""
    limits = {}
    for bone in COMPACT_BONES:
        if bone in JOINT_LIMITS_DEG:
            limits[bone] = JOINT_LIMITS_DEG[bone]
            continue
        (bend, side, twist) = JOINT_LIMITS_DEG[mirrored_name(bone)]
        limits[bone] = (bend, (-side[1], -side[0]), (-twist[1], -twist[0]))
    return limits


def _unit(vector: torch.Tensor) -> torch.Tensor:
    return vector / vector.norm()


def _frame(twist: torch.Tensor, bend_reference: torch.Tensor) -> torch.Tensor:
    """Rotation with columns (bend, side, twist): bend = the reference made orthogonal to twist."""
    twist = _unit(twist)
    bend = _unit(bend_reference - (bend_reference @ twist) * twist)
    side = torch.linalg.cross(twist, bend)
    return torch.stack([bend, side, twist], dim=1)


_MIRROR_X = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))


def joint_frames(rest_heads: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Anatomical frames of the compact bones, from the rest-pose bone heads.

    Args:
        rest_heads: bone label -> (3,) head position in Anny world at the rest pose
            (the bones named in the frame specs must be present).
    Returns:
        (P, 3, 3) float64 rotations, columns = (bend, side, twist) axes in local-ref axes.
        Right-side frames are the mirror images of the left ones, so that a mirrored pose
        has the same bend and opposite side and twist components.
    """
    heads = {name: torch.as_tensor(value, dtype=torch.float64) for name, value in rest_heads.items()}
    up = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    references = {
        "lateral": torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64),
        "forward": torch.tensor([0.0, -1.0, 0.0], dtype=torch.float64),
    }
    frames = {}
    for bone, (end, bend_kind) in _FRAME_SPECS.items():
        twist = up if end is None else heads[end] - heads[bone]
        if bend_kind == "elbow":
            upper_arm = heads["lowerarm01.L"] - heads["upperarm01.L"]
            forearm = heads["wrist.L"] - heads["lowerarm01.L"]
            reference = torch.linalg.cross(upper_arm, forearm)
        elif bend_kind == "palm":
            reference = heads["finger5-1.L"] - heads["finger2-1.L"]
        else:
            reference = references[bend_kind]
        frames[bone] = _frame(twist, reference)
    result = []
    for bone in COMPACT_BONES:
        if bone in frames:
            result.append(frames[bone])
        else:
            # Mirror of frame C = [b, s, t]: [-M b, M s, M t] with M the x-mirror (a rotation again).
            left = frames[mirrored_name(bone)]
            mirrored = _MIRROR_X @ left
            mirrored[:, 0] = -mirrored[:, 0]
            result.append(mirrored)
    return torch.stack(result)


def limit_tensors(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """(P, 3) lower and upper limits in radians, in :data:`COMPACT_BONES` order."""
    limits = joint_limits_deg()
    lower = torch.tensor([[axis[0] for axis in limits[bone]] for bone in COMPACT_BONES], dtype=dtype)
    upper = torch.tensor([[axis[1] for axis in limits[bone]] for bone in COMPACT_BONES], dtype=dtype)
    return lower * (math.pi / 180.0), upper * (math.pi / 180.0)


def prior_std(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(P, 3) standard deviations of the Gaussian pose prior, radians."""
    lower, upper = limit_tensors(torch.float64)
    std = ((upper - lower) / 4.0).clamp_min(math.radians(_MIN_PRIOR_STD_DEG))
    return std.to(dtype)


def compact_to_anny_pose(
    rotations: torch.Tensor, bone_ids: torch.Tensor, bone_count: int
) -> torch.Tensor:
    """Scatter compact rotations into Anny's full pose-parameter tensor.

    Args:
        rotations: (B, P, 3, 3) rotation of each compact bone (local-ref).
        bone_ids: (P,) index of each compact bone in Anny's bone list.
        bone_count: number of Anny bones (104).
    Returns:
        (B, bone_count, 4, 4) local-ref delta transforms, identity for the other bones.
    """
    batch = rotations.shape[0]
    eye = torch.eye(3, dtype=rotations.dtype, device=rotations.device)
    # index_copy keeps the autograd graph to `rotations`; the other bones get the identity.
    offsets = rotations.new_zeros(batch, bone_count, 3, 3).index_copy(1, bone_ids, rotations - eye)
    return rigid_matrix(eye + offsets, rotations.new_zeros(batch, bone_count, 3))

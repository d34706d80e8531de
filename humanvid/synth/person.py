"""One synthetic clothed person from an integer seed: body, pose or clip, outfit, ground truth.

Everything is drawn from ``numpy.random.default_rng(seed)`` in a fixed order, so the
same seed gives the same person, clothes and ground-truth mesh on every machine.
What is drawn depends on the seed's family (``humanvid.synth.splits.family_of_seed``):
the standard family's everyday outfits and clip motions, the loose family's outfits
(:mod:`humanvid.synth.loose`), or the turn family's clips (:mod:`humanvid.synth.turns`).
The Anny rig and pose space are loaded once by the caller and passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanvid.synth.bodies import AnnyRig, BodySpec, PosedBody, place_on_floor, pose_body, sample_body
from humanvid.synth.clothing import Outfit, dress, sample_outfit
from humanvid.synth.groundtruth import ClothedMesh, VoxelGrid, build_clothed_mesh
from humanvid.synth.loose import sample_loose_outfit, sample_loose_pose_kind
from humanvid.synth.poses import PoseSpace, sample_clip, sample_pose
from humanvid.synth.regions import BodyRegions, body_regions
from humanvid.synth.solids import Solid
from humanvid.synth.splits import FAMILIES, family_of_seed
from humanvid.synth.turns import TURNING_KINDS, sample_turn_family_clip


@dataclass
class Person:
    """A dressed, posed person over T frames (T = 1 for a still), in Anny's world frame.

    rotations: (T, J, 3) the Anny pose (local-ref axis-angles) of each frame.
    """

    seed: int
    body: BodySpec
    motion: str  # pose or clip kind
    outfit: Outfit
    rotations: np.ndarray
    posed: PosedBody
    regions: BodyRegions
    family: str = "standard"  # humanvid.synth.splits.FAMILIES

    @property
    def frame_count(self) -> int:
        return self.posed.frame_count


def make_person(rig: AnnyRig, space: PoseSpace, seed: int, frames: int = 1, motion: str | None = None,
                family: str | None = None) -> Person:
    """A random person: a still pose if ``frames`` is 1, else a clip of ``frames`` frames.

    motion: a pose kind (``poses.POSE_KINDS``) or clip kind (``poses.CLIP_KINDS``,
    ``turns.TURNING_KINDS``); random if None. family: "standard", "loose" or "turn"; None
    takes the seed's own (a split's seeds always do).
    """
    family = family_of_seed(seed) if family is None else family
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; use one of {', '.join(FAMILIES)}")
    rng = np.random.default_rng(seed)
    body = sample_body(rng)
    if frames == 1:
        if family == "loose" and motion is None:
            motion = sample_loose_pose_kind(rng)
        pose = sample_pose(rng, space, motion)
        name, rotations = pose.name, pose.rotations[None]
        yaw, offsets = np.zeros(1), np.array([[0.0, 0.0, pose.lift]])
    else:
        if family == "turn" or motion in TURNING_KINDS:
            clip = sample_turn_family_clip(rng, space, frames, motion)
        else:
            clip = sample_clip(rng, space, frames, motion)
        name, rotations, yaw, offsets = clip.name, clip.rotations, clip.yaw, clip.offsets.copy()
    outfit = (sample_loose_outfit if family == "loose" else sample_outfit)(rng, body, name)
    posed = pose_body(rig, body, rotations)
    regions = body_regions(rig, posed.rest_vertices, posed.rest_bone_poses)
    offsets[:, 2] += outfit.lift  # shoe soles stand on the floor
    posed = place_on_floor(posed, yaw, offsets)
    return Person(seed, body, name, outfit, rotations, posed, regions, family)


def person_solids(person: Person, frame: int = 0) -> list[Solid]:
    """The closed solids (body, garments, hair) of one frame."""
    return dress(person.outfit, person.regions, person.posed, frame)


def clothed_mesh(person: Person, frame: int = 0, voxel: float = 0.004) -> tuple[ClothedMesh, VoxelGrid]:
    """The watertight clothed ground-truth surface of one frame and the voxel grid behind it."""
    return build_clothed_mesh(person_solids(person, frame), list(person.outfit.materials),
                              person.posed.vertices[frame], person.posed.vertex_transforms[frame], voxel=voxel)

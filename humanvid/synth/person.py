"""One synthetic clothed person from an integer seed: body, pose or clip, outfit, ground truth.

Everything is drawn from ``numpy.random.default_rng(seed)`` in a fixed order, so the
same seed gives the same person, clothes and ground-truth mesh on every machine.
The Anny rig and pose space are loaded once by the caller and passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanvid.synth.bodies import AnnyRig, BodySpec, PosedBody, place_on_floor, pose_body, sample_body
from humanvid.synth.clothing import Outfit, dress, sample_outfit
from humanvid.synth.groundtruth import ClothedMesh, VoxelGrid, build_clothed_mesh
from humanvid.synth.poses import PoseSpace, sample_clip, sample_pose
from humanvid.synth.regions import BodyRegions, body_regions
from humanvid.synth.solids import Solid


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

    @property
    def frame_count(self) -> int:
        return self.posed.frame_count


def make_person(rig: AnnyRig, space: PoseSpace, seed: int, frames: int = 1, motion: str | None = None) -> Person:
    """A random person: a still pose if ``frames`` is 1, else a clip of ``frames`` frames.

    motion: a pose kind (``poses.POSE_KINDS``) or clip kind (``poses.CLIP_KINDS``); random if None.
    """
    rng = np.random.default_rng(seed)
    body = sample_body(rng)
    if frames == 1:
        pose = sample_pose(rng, space, motion)
        name, rotations = pose.name, pose.rotations[None]
        yaw, offsets = np.zeros(1), np.array([[0.0, 0.0, pose.lift]])
    else:
        clip = sample_clip(rng, space, frames, motion)
        name, rotations, yaw, offsets = clip.name, clip.rotations, clip.yaw, clip.offsets.copy()
    outfit = sample_outfit(rng, body, name)
    posed = pose_body(rig, body, rotations)
    regions = body_regions(rig, posed.rest_vertices, posed.rest_bone_poses)
    offsets[:, 2] += outfit.lift  # shoe soles stand on the floor
    posed = place_on_floor(posed, yaw, offsets)
    return Person(seed, body, name, outfit, rotations, posed, regions)


def person_solids(person: Person, frame: int = 0) -> list[Solid]:
    """The closed solids (body, garments, hair) of one frame."""
    return dress(person.outfit, person.regions, person.posed, frame)


def clothed_mesh(person: Person, frame: int = 0, voxel: float = 0.004) -> tuple[ClothedMesh, VoxelGrid]:
    """The watertight clothed ground-truth surface of one frame and the voxel grid behind it."""
    return build_clothed_mesh(person_solids(person, frame), list(person.outfit.materials),
                              person.posed.vertices[frame], person.posed.vertex_transforms[frame], voxel=voxel)

"""Random Anny bodies: phenotypes, skin tones, and posing them in Anny's world frame.

Anny's world frame: metres, z up, the body faces −y (its left side is +x). Anny's
rest pose is an A-pose. Poses are given as one axis-angle vector per Anny bone in
the ``local-ref`` convention (axes that coincide with the world axes when the
parents are at rest), see :mod:`humanvid.synth.poses`.

The Anny model is loaded once by the caller (:func:`load_anny`) and passed in;
nothing here holds global state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from humanvid.body.anny_model import AnnyBody, create_anny_body
from humanvid.synth.groundtruth import largest_face_component

PHENOTYPES = ("gender", "age", "muscle", "weight", "height", "proportions")

# Skin albedos (linear-ish sRGB in [0, 1]) from very light to very dark, roughly the
# Fitzpatrick / Monk scale; a sample interpolates between neighbours and jitters the hue.
SKIN_PALETTE = np.array([
    [0.96, 0.85, 0.78],
    [0.93, 0.78, 0.68],
    [0.87, 0.70, 0.58],
    [0.80, 0.62, 0.48],
    [0.72, 0.53, 0.39],
    [0.62, 0.44, 0.31],
    [0.50, 0.34, 0.24],
    [0.39, 0.26, 0.18],
    [0.29, 0.19, 0.13],
    [0.21, 0.14, 0.10],
])  # fmt: skip


@dataclass(frozen=True)
class BodySpec:
    """One person's identity: Anny phenotype and skin albedo."""

    phenotype: tuple[float, ...]  # (6,) in PHENOTYPES order, each in [0, 1]
    skin_color: tuple[float, float, float]  # RGB in [0, 1]

    def phenotype_dict(self) -> dict[str, float]:
        return dict(zip(PHENOTYPES, self.phenotype))


@dataclass
class PosedBody:
    """T posed frames of one Anny body, in Anny's world frame (metres, z up).

    vertices: (T, V, 3) posed vertices; faces: (F, 3) int64 triangles of the closed
    body surface (Anny's small inner parts, eyes and mouth cavities, removed);
    rest_vertices: (V, 3) the same body in its rest pose;
    vertex_transforms: (T, V, 4, 4) linear-blend-skinning transforms, rest → posed;
    bone_poses: (T, J, 4, 4) world pose of each bone; rest_bone_poses: (J, 4, 4).
    """

    vertices: np.ndarray
    faces: np.ndarray
    rest_vertices: np.ndarray
    vertex_transforms: np.ndarray
    bone_poses: np.ndarray
    rest_bone_poses: np.ndarray

    @property
    def frame_count(self) -> int:
        return self.vertices.shape[0]

    def bone_transform(self, bone_index: int) -> np.ndarray:
        """(T, 4, 4) rest → posed transform of one bone."""
        return self.bone_poses[:, bone_index] @ np.linalg.inv(self.rest_bone_poses[bone_index])


@dataclass(frozen=True)
class AnnyRig:
    """What the synthetic generator needs from Anny (humanvid.body's wrapper; numpy arrays read-only).

    body: the float64 :class:`~humanvid.body.anny_model.AnnyBody` (its ``anny`` is the raw model);
    faces: (F, 3) of the main body surface; bone_labels: J names;
    bone_weights, bone_indices: (V, K) skinning weights.
    """

    body: AnnyBody
    faces: np.ndarray
    bone_labels: tuple[str, ...]
    bone_weights: np.ndarray
    bone_indices: np.ndarray

    @property
    def model(self) -> torch.nn.Module:
        return self.body.anny

    def bone(self, label: str) -> int:
        return self.bone_labels.index(label)

    def bone_weight(self, labels) -> np.ndarray:
        """(V,) total skinning weight of the bones whose label starts with any of ``labels``."""
        labels = (labels,) if isinstance(labels, str) else tuple(labels)
        chosen = np.array([name.startswith(labels) for name in self.bone_labels])
        return (self.bone_weights * chosen[self.bone_indices]).sum(axis=1)


def load_anny() -> AnnyRig:
    """Load Anny through humanvid.body (float64, CPU) with the skinning data the generator uses."""
    body = create_anny_body(torch.float64)
    faces = body.faces.cpu().numpy().astype(np.int64)
    return AnnyRig(
        body=body,
        faces=faces[largest_face_component(faces)],  # the skin; drops eyes etc.
        bone_labels=tuple(body.joint_names),
        bone_weights=body.skinning_weights.cpu().numpy().astype(np.float64),
        bone_indices=body.skinning_indices.cpu().numpy().astype(np.int64),
    )


def sample_body(rng: np.random.Generator) -> BodySpec:
    """A random person: mostly adults, both genders and in between, varied build and skin."""
    gender = float(rng.uniform(*((0.0, 0.25), (0.75, 1.0), (0.0, 1.0))[rng.choice(3, p=[0.42, 0.42, 0.16])]))
    # Anny age: 0 = baby, 1/3 = child, 2/3 = young adult, 1 = old. Mostly adults, a few teenagers.
    age = float(rng.uniform(0.5, 0.62) if rng.random() < 0.1 else rng.uniform(0.62, 1.0))
    muscle = float(np.clip(rng.normal(0.5, 0.18), 0.0, 1.0))
    weight = float(np.clip(rng.normal(0.5, 0.2), 0.05, 1.0))
    height = float(np.clip(rng.normal(0.5, 0.2), 0.0, 1.0))
    proportions = float(np.clip(rng.normal(0.5, 0.2), 0.0, 1.0))
    return BodySpec(
        phenotype=(gender, age, muscle, weight, height, proportions),
        skin_color=sample_skin_color(rng),
    )


def sample_skin_color(rng: np.random.Generator) -> tuple[float, float, float]:
    """An RGB skin albedo from :data:`SKIN_PALETTE`, interpolated and slightly jittered."""
    position = rng.uniform(0.0, len(SKIN_PALETTE) - 1)
    low = int(np.floor(position))
    high = min(low + 1, len(SKIN_PALETTE) - 1)
    color = SKIN_PALETTE[low] + (position - low) * (SKIN_PALETTE[high] - SKIN_PALETTE[low])
    color = color * rng.uniform(0.95, 1.05) * (1.0 + rng.normal(0.0, 0.02, size=3))
    return tuple(float(c) for c in np.clip(color, 0.0, 1.0))


def pose_body(rig: AnnyRig, body: BodySpec, rotations: np.ndarray, chunk: int = 16) -> PosedBody:
    """Pose one body in T poses.

    rotations: (T, J, 3) axis-angle per Anny bone (``local-ref``), radians.
    Returns a :class:`PosedBody` (root at Anny's origin; place it on the floor yourself).
    """
    from scipy.spatial.transform import Rotation

    rotations = np.asarray(rotations, dtype=np.float64)
    frames, bones = rotations.shape[:2]
    deltas = np.tile(np.eye(4), (frames, bones, 1, 1))
    deltas[:, :, :3, :3] = Rotation.from_rotvec(rotations.reshape(-1, 3)).as_matrix().reshape(frames, bones, 3, 3)
    phenotype = torch.tensor([body.phenotype], dtype=torch.float64)
    vertices, bone_poses = [], []
    with torch.no_grad():
        for start in range(0, frames, chunk):
            delta = torch.from_numpy(deltas[start:start + chunk])
            out = rig.model(pose_parameters=delta, phenotype_kwargs=phenotype.expand(len(delta), -1))
            vertices.append(out["vertices"].numpy())
            bone_poses.append(out["bone_poses"].numpy())
        rest = out["rest_vertices"][0].numpy()
        rest_bone_poses = out["rest_bone_poses"][0].numpy()
    bone_poses = np.concatenate(bone_poses)
    skinning = bone_poses @ np.linalg.inv(rest_bone_poses)[None]  # (T, J, 4, 4)
    vertex_transforms = np.einsum("vk,tvkij->tvij", rig.bone_weights, skinning[:, rig.bone_indices])
    # Rounded to 0.1 µm so that last-bit differences of float maths between machines vanish.
    return PosedBody(
        vertices=np.round(np.concatenate(vertices), 7),
        faces=rig.faces,
        rest_vertices=rest,
        vertex_transforms=vertex_transforms,
        bone_poses=bone_poses,
        rest_bone_poses=rest_bone_poses,
    )


def place_on_floor(posed: PosedBody, yaw: np.ndarray | None = None, offsets: np.ndarray | None = None) -> PosedBody:
    """Turn each frame about the vertical by ``yaw`` (T,) [rad], stand it on z = 0, then add ``offsets`` (T, 3).

    The lowest vertex of every frame touches the floor before the offsets (whose z is a
    jump's lift); the transforms follow, so anything carried by the skinning moves along.
    """
    frames = posed.frame_count
    yaw = np.zeros(frames) if yaw is None else np.broadcast_to(np.asarray(yaw, dtype=np.float64), (frames,))
    offsets = np.zeros((frames, 3)) if offsets is None else np.broadcast_to(np.asarray(offsets, float), (frames, 3))
    world = np.tile(np.eye(4), (frames, 1, 1))
    c, s = np.cos(yaw), np.sin(yaw)
    world[:, 0, 0], world[:, 0, 1], world[:, 1, 0], world[:, 1, 1] = c, -s, s, c
    world[:, :3, 3] = offsets
    world[:, 2, 3] -= posed.vertices[:, :, 2].min(axis=1)
    vertices = np.einsum("tij,tvj->tvi", world[:, :3, :3], posed.vertices) + world[:, None, :3, 3]
    return PosedBody(
        vertices=vertices,
        faces=posed.faces,
        rest_vertices=posed.rest_vertices,
        vertex_transforms=world[:, None] @ posed.vertex_transforms,
        bone_poses=world[:, None] @ posed.bone_poses,
        rest_bone_poses=posed.rest_bone_poses,
    )

"""Things a person uses that are not part of them: the box a sitting person sits on.

A prop is rendered (it stands in the image, hides what is behind it, casts and takes
shadows) but it is not part of the ground truth, the render mask or the depth, normal
and label buffers: those describe the person alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanvid.synth.textures import Pattern

# Painted wood, bare wood, cardboard, plastic, concrete: base albedos in [0, 1].
PROP_COLORS = np.array([
    [0.55, 0.38, 0.22], [0.72, 0.56, 0.38], [0.62, 0.48, 0.32], [0.30, 0.30, 0.32],
    [0.85, 0.85, 0.82], [0.20, 0.35, 0.55], [0.60, 0.15, 0.12], [0.55, 0.55, 0.52],
])  # fmt: skip


@dataclass(frozen=True)
class Prop:
    """A closed mesh in Anny's world frame with one material.

    vertices: (N, 3) [m]; faces: (M, 3) int64, outward; pattern: its texture, evaluated at world points.
    """

    vertices: np.ndarray
    faces: np.ndarray
    color: tuple[float, float, float]
    pattern: Pattern


def seat_box(bone_heads: dict[str, np.ndarray], surface: np.ndarray, rng: np.random.Generator) -> Prop | None:
    """A box under a sitting person: under the buttocks and most of the thighs, standing on z = 0.

    bone_heads: world positions (3,) of ``upperleg01.L/R`` (hips) and ``lowerleg01.L/R`` (knees);
    surface: (N, 3) the clothed surface (world, z up), whose lowest point over the box sets the
    seat height. None when nothing of the person lies over the box (not a sitting pose).
    """
    hips = (bone_heads["upperleg01.L"] + bone_heads["upperleg01.R"]) / 2.0
    knees = (bone_heads["lowerleg01.L"] + bone_heads["lowerleg01.R"]) / 2.0
    forward = (knees - hips)[:2]
    thigh = float(np.linalg.norm(forward))
    if thigh < 0.15:
        return None
    forward = forward / thigh
    side = np.array([-forward[1], forward[0]])
    half_width = float(np.linalg.norm((bone_heads["upperleg01.L"] - bone_heads["upperleg01.R"])[:2])) / 2.0
    half_width += rng.uniform(0.12, 0.25)
    back, front = -rng.uniform(0.15, 0.3), rng.uniform(0.45, 0.6) * thigh

    relative = surface[:, :2] - hips[:2]
    along, across = relative @ forward, relative @ side
    over = (along > back) & (along < front) & (np.abs(across) < half_width) & (surface[:, 2] > 0.15)
    if not np.any(over):
        return None
    top = float(surface[over, 2].min()) - 0.001  # just under the clothes: touching, never inside
    corners = np.array([[a, c] for a in (back, front) for c in (-half_width, half_width)])
    ground = hips[:2] + corners[:, :1] * forward + corners[:, 1:] * side  # (4, 2)
    vertices = np.concatenate([np.column_stack([ground, np.zeros(4)]), np.column_stack([ground, np.full(4, top)])])
    pattern = Pattern(kind=str(rng.choice(["plain", "noise", "stripes"])), scale=float(rng.uniform(0.02, 0.08)),
                      contrast=float(rng.uniform(0.1, 0.4)), seed=int(rng.integers(1 << 16)))
    color = tuple(float(c) for c in PROP_COLORS[rng.integers(len(PROP_COLORS))] * rng.uniform(0.85, 1.1))
    return Prop(vertices, _box_faces(vertices), color, pattern)


def _box_faces(vertices: np.ndarray) -> np.ndarray:
    """(12, 3) outward triangles of a box given as 4 bottom then 4 top corners (bottom: a0c0 a0c1 a1c0 a1c1)."""
    quads = np.array([[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]])
    faces = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    centre = vertices.mean(axis=0)
    triangles = vertices[faces]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    inward = np.einsum("ij,ij->i", normals, triangles.mean(axis=1) - centre) < 0
    faces[inward] = faces[inward][:, ::-1]
    return faces

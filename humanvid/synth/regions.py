"""Body-surface coordinates that garments are cut by, computed once per body in its rest pose.

From Anny's skinning weights each vertex gets soft part weights (arms, hands, legs,
feet, head) and from the rest skeleton a coordinate along the arm (0 at the shoulder,
1 at the elbow, 2 at the wrist) and along the leg (0 at the hip, 1 at the knee, 2 at
the ankle). A garment is a set of inequalities on these (sleeve length, hem height,
neckline...), so it is defined relative to the body and moves with it in any pose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix, diags

from humanvid.geometry.body_distance import vertex_normals


@dataclass(frozen=True)
class BodyRegions:
    """Per-vertex rest-pose coordinates of one body (V vertices).

    rest: (V, 3) rest vertices; rest_normals: (V, 3);
    arm, hand, leg, foot, head: (V,) soft part weights in [0, 1];
    arm_coord, leg_coord: (V,) position along the limb (0 root joint, 1 middle joint, 2 end joint);
    side: (V,) +1 on the body's left (x > 0), −1 on the right;
    joints: rest positions (3,) of landmarks: "root", "hip", "knee", "ankle", "waist", "chest",
    "neck", "head", "head_top", "shoulder", "elbow", "wrist" (left side for paired joints).
    adjacency: (V, V) row-normalised vertex adjacency for Laplacian smoothing.
    """

    rest: np.ndarray
    rest_normals: np.ndarray
    arm: np.ndarray
    hand: np.ndarray
    leg: np.ndarray
    foot: np.ndarray
    head: np.ndarray
    arm_coord: np.ndarray
    leg_coord: np.ndarray
    side: np.ndarray
    joints: dict
    adjacency: csr_matrix

    @property
    def torso(self) -> np.ndarray:
        """(V,) weight of everything but limbs and head."""
        return np.clip(1.0 - self.arm - self.leg - self.head, 0.0, 1.0)


def body_regions(rig, rest_vertices: np.ndarray, rest_bone_poses: np.ndarray) -> BodyRegions:
    """Region coordinates of a body from its rest vertices (V, 3) and rest bone poses (J, 4, 4)."""
    heads = rest_bone_poses[:, :3, 3]
    joint = lambda name: heads[rig.bone(name)]
    side = np.where(rest_vertices[:, 0] >= 0.0, 1.0, -1.0)
    mirror = np.array([-1.0, 1.0, 1.0])

    def limb_coordinate(first: str, middle: str, end: str) -> np.ndarray:
        coords = []
        for sign in (1.0, -1.0):
            a, b, c = (joint(name) * (mirror if sign < 0 else 1.0) for name in (first, middle, end))
            coords.append(_chain_parameter(rest_vertices, a, b, c))
        return np.where(side > 0, coords[0], coords[1])

    rest_top = rest_vertices[:, 2].max()
    joints = {
        "root": joint("root"), "hip": joint("upperleg01.L"), "knee": joint("lowerleg01.L"),
        "ankle": joint("foot.L"), "neck": joint("neck01"), "head": joint("head"),
        "shoulder": joint("upperarm01.L"), "elbow": joint("lowerarm01.L"), "wrist": joint("wrist.L"),
        "chest": joint("spine01"), "waist": joint("spine03"),
        "head_top": np.array([0.0, joint("head")[1], rest_top]),
    }
    faces = rig.faces
    return BodyRegions(
        rest=rest_vertices,
        rest_normals=vertex_normals(rest_vertices, faces),
        arm=rig.bone_weight(("upperarm", "lowerarm", "wrist", "metacarpal", "finger")),
        hand=rig.bone_weight(("wrist", "metacarpal", "finger")),
        leg=rig.bone_weight(("upperleg", "lowerleg", "foot", "toe")),
        foot=rig.bone_weight(("foot", "toe")),
        head=rig.bone_weight(("head", "eye", "neck02", "neck03")),
        arm_coord=limb_coordinate("upperarm01.L", "lowerarm01.L", "wrist.L"),
        leg_coord=limb_coordinate("upperleg01.L", "lowerleg01.L", "foot.L"),
        side=side,
        joints=joints,
        adjacency=vertex_adjacency(faces, len(rest_vertices)),
    )


def _chain_parameter(points: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(N,) position along the polyline a → b → c: 0 at a, 1 at b, 2 at c (nearest segment)."""
    params, distances = [], []
    for start, end, base in ((a, b, 0.0), (b, c, 1.0)):
        direction = end - start
        u = (points - start) @ direction / (direction @ direction)
        closest = start + np.clip(u, 0.0, 1.0)[:, None] * direction
        params.append(base + u)
        distances.append(np.linalg.norm(points - closest, axis=1))
    return np.where(distances[0] <= distances[1], params[0], params[1])


def vertex_adjacency(faces: np.ndarray, count: int) -> csr_matrix:
    """(V, V) row-normalised adjacency (mean of the neighbours)."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = np.concatenate([edges, edges[:, ::-1]])
    matrix = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(count, count)).tocsr()
    matrix.data[:] = 1.0
    degree = np.asarray(matrix.sum(axis=1)).ravel()
    return diags(1.0 / np.maximum(degree, 1.0)) @ matrix



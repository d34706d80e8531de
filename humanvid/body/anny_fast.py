"""A light Anny evaluation for the fitting loop: keypoints and a few vertices, exactly.

Anny poses its mesh by linear blend skinning, posed = sum_b w_vb T_b [x_v; 1] with T_b the
rest -> posed transform of bone b, and its keypoints are linear in the posed vertices
(COCO regressor rows, single face vertices) or bone heads (knuckles). In Anny's local-ref
forward kinematics (anny.utils.kinematics) a bone with an identity delta follows its parent
rigidly, so with only the 19 compact bones rotated, T_b = Delta_s(b) T0_b: T0_b is the
transform of the identity pose and Delta_s the change of the nearest compact ancestor-or-self
s(b) (the root's group otherwise) from that pose. Along the compact chain,

    Delta_c = Delta_s(parent c) [rotation about the identity-pose head h0_c by A_c D_c A_c^T],

with D_c the bone's local-ref rotation and A_c = R0_c U_c^T (identity-pose orientation times
the reference orientation's transpose). Every point is then sum_s Delta_s g_s with per-group
4-vectors g fixed by the shape: an evaluation costs 19 small products and one matrix product,
not forward kinematics over 104 bones and skinning of 13,718 vertices. For a fixed shape the
factors are built once (`rest_factors`) and reused by every evaluation of an L-BFGS run.
"""

from __future__ import annotations

import dataclasses

import torch

from humanvid.body.rotations import axis_angle_to_matrix, rigid_matrix


@dataclasses.dataclass
class AnnyRestFactors:
    """Factors of one shape.

    Attributes:
        shape: (1, 6) the phenotype they were built for.
        axes: (P, 3, 3) A_c of the compact bones (P = 19).
        heads: (P, 3) identity-pose heads h0_c (Anny world).
        keypoint_factors: (G * 4, 35) g of Anny's 35 native keypoints (G = P + 1 groups).
        vertex_factors: (G * 4, N) g of the N chosen vertices.
        vertex_ids: (N,) the chosen vertices.
    """

    shape: torch.Tensor
    axes: torch.Tensor
    heads: torch.Tensor
    keypoint_factors: torch.Tensor
    vertex_factors: torch.Tensor
    vertex_ids: torch.Tensor


def dense_skinning_weights(indices: torch.Tensor, weights: torch.Tensor, bones: int) -> torch.Tensor:
    """(V, K) bone indices and weights -> (V, bones) dense weights."""
    dense = torch.zeros(indices.shape[0], bones, dtype=weights.dtype, device=weights.device)
    return dense.scatter_add_(1, indices.long(), weights)


def compact_groups(parents: list[int], compact_ids: list[int]) -> tuple[torch.Tensor, list[int]]:
    """Group of every bone (index into [root] + compact bones) and, per compact bone, the
    group of its parent.

    Args:
        parents: (J,) Anny's parent index of each bone (root: negative).
        compact_ids: (P,) Anny index of each compact bone.
    Returns:
        (J,) group of each bone, (P,) parent group of each compact bone.
    """
    group_of = {bone: index + 1 for index, bone in enumerate(compact_ids)}

    def group(bone: int) -> int:
        while bone >= 0 and bone not in group_of:
            bone = parents[bone]
        return group_of.get(bone, 0)

    groups = torch.tensor([group(bone) for bone in range(len(parents))])
    parent_groups = [group(parents[bone]) for bone in compact_ids]
    if any(parent > index for index, parent in enumerate(parent_groups)):
        raise ValueError("compact bones must come after their compact ancestors")
    return groups, parent_groups


def rest_factors(body, shape: torch.Tensor, vertex_ids: torch.Tensor) -> AnnyRestFactors:
    """Factors of `shape` (1, 6) for `body` (an AnnyBody); differentiable in `shape`."""
    anny = body.anny
    bones = len(body.joint_names)
    identity = torch.eye(4, dtype=shape.dtype, device=shape.device).expand(1, bones, 4, 4)
    inputs = anny.get_tensor_inputs(identity, shape, None, None)
    coefficients = anny._get_phenotype_blendshape_coefficients(*inputs[1:])
    rest = anny.get_rest_model(coefficients)
    transforms, poses = anny.get_bone_transforms(identity, rest["rest_bone_poses"])
    transforms, poses = transforms[0], poses[0]  # (J, 4, 4) identity pose
    compact = body.compact_bone_ids
    references = anny.reference_bone_orientations
    reference = rest["rest_bone_poses"][0, compact, :3, :3] if references is None else references[compact].to(shape)
    axes = poses[compact, :3, :3] @ reference.transpose(-1, -2)

    vertices = rest["rest_vertices"][0]  # (V, 3)
    homogeneous = torch.cat([vertices, torch.ones_like(vertices[:, :1])], dim=1)
    groups = body.fast_groups.to(shape.device)
    group_count = len(compact) + 1

    def grouped(ids: torch.Tensor) -> torch.Tensor:
        # (N, G * 4): sum over the bones b of each group of w_vb T0_b [x_v; 1] (the K <= 9
        # bones that move each vertex).
        bones_of = body.skinning_indices[ids].long()  # (N, K)
        moved = (transforms[bones_of] @ homogeneous[ids][:, None, :, None])[..., 0]  # (N, K, 4)
        weighted = body.skinning_weights[ids][..., None] * moved
        slots = groups[bones_of][..., None].expand(-1, -1, 4)
        result = weighted.new_zeros(len(ids), group_count, 4).scatter_add(1, slots, weighted)
        return result.reshape(len(ids), group_count * 4)

    used = body.fast_regressor_vertices
    regressed = body.fast_regressor[:, used] @ grouped(used)  # (29, G * 4)
    knuckles = body.keypoints.knuckle_bone_ids
    heads = torch.zeros(len(knuckles), group_count, 4, dtype=shape.dtype, device=shape.device)
    heads[torch.arange(len(knuckles)), groups[knuckles]] = poses[knuckles, :, 3]
    native = torch.cat([regressed[:23], heads.reshape(len(knuckles), -1), regressed[23:]])  # (35, G * 4)
    return AnnyRestFactors(
        shape, axes, poses[compact, :3, 3], native.T.contiguous(), grouped(vertex_ids).T.contiguous(), vertex_ids
    )


def pose_with_factors(body, params, factors: AnnyRestFactors) -> tuple[torch.Tensor, torch.Tensor]:
    """Keypoints and chosen vertices of posed bodies, in the output frame.

    Args:
        body: AnnyBody.
        params: BodyParams of B frames whose shape is `factors.shape`.
    Returns:
        keypoints (B, 33, 3) in MediaPipe order (as `body(params).keypoints`),
        vertices (B, N, 3) of `factors.vertex_ids`.
    """
    from humanvid.body.keypoint_map import map_to_mediapipe

    batch = params.pose.shape[0]
    local = factors.axes @ axis_angle_to_matrix(params.pose) @ factors.axes.transpose(-1, -2)  # (B, P, 3, 3)
    moves = rigid_matrix(local, factors.heads - (local @ factors.heads[..., None])[..., 0])  # about h0_c
    to_output = rigid_matrix(axis_angle_to_matrix(params.global_orient) @ body.upright, params.translation)
    deltas = [to_output]
    for index, parent in enumerate(body.fast_parent_groups):
        deltas.append(deltas[parent] @ moves[:, index])
    rows = torch.stack(deltas, dim=1)[:, :, :3, :].permute(0, 2, 1, 3).reshape(batch, 3, -1)  # (B, 3, G * 4)
    native = (rows @ factors.keypoint_factors).transpose(1, 2)  # (B, 35, 3)
    vertices = (rows @ factors.vertex_factors).transpose(1, 2)  # (B, N, 3)
    return map_to_mediapipe(native, body.keypoint_matrix), vertices

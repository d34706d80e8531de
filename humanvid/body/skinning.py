"""Linear blend skinning and keypoint regression: the pure functional core of the body models.

Skinning weights are stored sparsely, as K (bone index, weight) pairs per vertex, which is
how Anny stores them (K = 9) and is cheap for SMPL too (its weights have few non-zeros).
A vertex's skinning transform is the weighted sum of its bones' 4x4 transforms; it maps the
vertex (or any point carried with it) from the rest space to the posed space.
"""

from __future__ import annotations

import torch


def dense_to_sparse_weights(dense_weights: torch.Tensor, max_influences: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the `max_influences` largest weights per vertex, renormalised to sum to 1.

    Args:
        dense_weights: (V, J) skinning weights.
        max_influences: K, the number of bones kept per vertex.
    Returns:
        bone_indices (V, K) int64 and bone_weights (V, K).
    """
    k = min(max_influences, dense_weights.shape[1])
    weights, indices = dense_weights.topk(k, dim=1)
    weights = weights / weights.sum(dim=1, keepdim=True).clamp_min(1e-12)
    return indices, weights


def blend_transforms(
    bone_transforms: torch.Tensor,
    bone_indices: torch.Tensor,
    bone_weights: torch.Tensor,
    vertex_ids: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-vertex skinning transforms, optionally for a subset of the vertices.

    Args:
        bone_transforms: (B, J, 4, 4) rest -> posed transform of each bone.
        bone_indices: (V, K) bones influencing each vertex.
        bone_weights: (V, K) their weights (rows sum to 1).
        vertex_ids: optional (N,) vertex indices; all V vertices when None.
    Returns:
        (B, N, 4, 4) transforms (N = V when vertex_ids is None). The bottom row is
        (0, 0, 0, 1) because the weights sum to one.
    """
    if vertex_ids is not None:
        bone_indices = bone_indices[vertex_ids]
        bone_weights = bone_weights[vertex_ids]
    gathered = bone_transforms[:, bone_indices]  # (B, N, K, 4, 4)
    return (gathered * bone_weights[None, :, :, None, None]).sum(dim=2)


def skin_points(
    rest_points: torch.Tensor,
    bone_transforms: torch.Tensor,
    bone_indices: torch.Tensor,
    bone_weights: torch.Tensor,
) -> torch.Tensor:
    """Linear blend skinning of points that follow the vertices' weights.

    Args:
        rest_points: (B, V, 3) points in the rest space (one per weight row).
        bone_transforms: (B, J, 4, 4).
        bone_indices, bone_weights: (V, K).
    Returns:
        (B, V, 3) posed points.
    """
    # Transform by each influencing bone, then blend: cheaper than building (B, V, 4, 4).
    gathered = bone_transforms[:, bone_indices]  # (B, V, K, 4, 4)
    moved = (gathered[..., :3, :3] @ rest_points[:, :, None, :, None])[..., 0] + gathered[..., :3, 3]
    return (moved * bone_weights[None, :, :, None]).sum(dim=2)


def carry_points(
    points: torch.Tensor,
    source_transforms: torch.Tensor,
    target_transforms: torch.Tensor,
) -> torch.Tensor:
    """Move points rigidly attached to skinned vertices from one pose to another.

    Each point is mapped back to the rest space by the inverse of its vertex's skinning
    transform in the source pose, then forward by the transform in the target pose
    (e.g. a clothed-surface point carried by its nearest body vertex from frame a to b).

    Args:
        points: (..., 3) points in the source posed space.
        source_transforms: (..., 4, 4) skinning transforms of their vertices, source pose.
        target_transforms: (..., 4, 4) the same vertices' transforms, target pose.
    Returns:
        (..., 3) points in the target posed space.
    """
    # Blended transforms are not rigid, so invert the general 3x3 part.
    rest = torch.linalg.solve(
        source_transforms[..., :3, :3], (points - source_transforms[..., :3, 3])[..., None]
    )[..., 0]
    return (target_transforms[..., :3, :3] @ rest[..., None])[..., 0] + target_transforms[..., :3, 3]


def regress_keypoints(
    vertices: torch.Tensor, vertex_indices: torch.Tensor, vertex_weights: torch.Tensor
) -> torch.Tensor:
    """Keypoints as fixed convex combinations of a few vertices each.

    Args:
        vertices: (B, V, 3).
        vertex_indices: (N, S) vertices used by each keypoint.
        vertex_weights: (N, S) their weights (rows sum to 1).
    Returns:
        (B, N, 3).
    """
    return (vertices[:, vertex_indices] * vertex_weights[None, :, :, None]).sum(dim=2)

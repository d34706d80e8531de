"""The canonical mesh's skin: bone weights read off the skin field, and posing by them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanvid.implicit.inference.skin_field import SkinField

INFLUENCES = 8  # bones kept per canonical vertex


def bone_share(bone_indices: np.ndarray, bone_weights: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """(V,) each vertex's total skinning weight on `bones` (H,) int, in [0, 1]: bone_indices (V, K) int64,
    bone_weights (V, K) rows summing to 1."""
    return (bone_weights * np.isin(bone_indices, bones)).sum(axis=1)


@dataclass
class Skin:
    """Linear-blend skinning of a mesh: bone_indices (V, K) int64, bone_weights (V, K) rows summing to 1."""

    bone_indices: np.ndarray
    bone_weights: np.ndarray

    @classmethod
    def of(cls, vertices: np.ndarray, field: SkinField, influences: int = INFLUENCES) -> "Skin":
        """The skin of (V, 3) rest-space vertices: the field's weights there, the `influences` largest kept."""
        dense = field.weights_at(vertices)
        indices = np.argsort(-dense, axis=1, kind="stable")[:, :influences]
        kept = np.take_along_axis(dense, indices, axis=1).astype(np.float64)
        return cls(indices.astype(np.int64), kept / np.maximum(kept.sum(axis=1, keepdims=True), 1e-12))

    def share(self, bones: np.ndarray) -> np.ndarray:
        """(V,) each vertex's total weight on `bones` (H,) int (see bone_share)."""
        return bone_share(self.bone_indices, self.bone_weights, bones)

    def pose(self, vertices: np.ndarray, bone_transforms: np.ndarray) -> np.ndarray:
        """(V, 3) rest-space vertices, (J, 4, 4) rest → posed bone transforms → (V, 3) posed vertices."""
        gathered = np.asarray(bone_transforms, np.float64)[self.bone_indices]  # (V, K, 4, 4)
        blended = np.einsum("vk,vkij->vij", self.bone_weights, gathered[:, :, :3, :])  # (V, 3, 4)
        return np.einsum("vij,vj->vi", blended[:, :, :3], vertices) + blended[:, :, 3]

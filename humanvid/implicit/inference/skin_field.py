"""Skinning weights for the space around a body, not only its surface: what canonical points and the
canonical mesh move with.

Near the body a point takes the bone weights of its nearest body vertex. Farther out it takes the
weights blurred over the space around it, so that what hangs between two limbs (a skirt between the
legs, a coat's hem, the space under an arm) moves with both instead of tearing between them.
The weights live on a lattice in the rest space; a point reads them trilinearly, and so does the
blend of bone transforms it moves by (the blend is linear in the weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage
from scipy.spatial import cKDTree

from humanvid.implicit.inference.meshing import Grid

SPACING = 0.03  # metres between the lattice's nodes
BLUR = 0.06  # metres: σ of the blur far from the body
ATTACHED = 0.02  # metres from the body within which a point keeps its nearest vertex's weights
DETACHED = 0.08  # metres from the body beyond which it takes the blurred weights only


@dataclass
class SkinField:
    """Bone weights (X, Y, Z, J) on a lattice of the rest space; each node's weights sum to 1."""

    weights: np.ndarray  # (X, Y, Z, J) float32
    origin: np.ndarray  # (3,) rest-space position of node (0, 0, 0) [m]
    spacing: float  # [m]

    @classmethod
    def around(cls, vertices: np.ndarray, bone_indices: np.ndarray, bone_weights: np.ndarray, joints: int,
               low: np.ndarray, high: np.ndarray, spacing: float = SPACING) -> "SkinField":
        """The field over the box `low`–`high` (3,) around a body of (V, 3) rest vertices with sparse (V, K)
        bone weights over `joints` bones."""
        shape = tuple(int(n) for n in np.ceil((np.asarray(high) - low) / spacing).astype(int) + 1)
        nodes = np.asarray(low, np.float64) + spacing * np.stack(np.meshgrid(*[np.arange(n) for n in shape],
                                                                            indexing="ij"), -1).reshape(-1, 3)
        distance, nearest = cKDTree(vertices).query(nodes, workers=-1)
        own = np.zeros((len(nodes), joints), np.float32)
        np.add.at(own, (np.repeat(np.arange(len(nodes)), bone_indices.shape[1]), bone_indices[nearest].ravel()),
                  bone_weights[nearest].ravel().astype(np.float32))
        own = own.reshape(*shape, joints)
        blurred = ndimage.gaussian_filter(own, sigma=(BLUR / spacing,) * 3 + (0,), mode="nearest")
        attached = np.clip((DETACHED - distance) / (DETACHED - ATTACHED), 0.0, 1.0).reshape(*shape, 1)
        weights = attached * own + (1.0 - attached) * blurred
        weights /= np.maximum(weights.sum(axis=-1, keepdims=True), 1e-12)
        return cls(weights.astype(np.float32), np.asarray(low, np.float64), float(spacing))

    @property
    def joints(self) -> int:
        return self.weights.shape[-1]

    def weights_at(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) rest-space points → (N, J) their bone weights (rows sum to 1)."""
        return self._read(np.moveaxis(self.weights, -1, 0), points)

    def transforms(self, bone_transforms: np.ndarray) -> "TransformField":
        """The blended (3, 4) rest → posed maps of every node for one pose's (J, 4, 4) bone transforms."""
        maps = self.weights.reshape(-1, self.joints) @ np.asarray(bone_transforms, np.float32)[:, :3, :].reshape(
            self.joints, 12)
        return TransformField(np.moveaxis(maps.reshape(*self.weights.shape[:3], 12), -1, 0), self)

    def _read(self, channels: np.ndarray, points: np.ndarray) -> np.ndarray:
        """(C, X, Y, Z) values at (N, 3) points, trilinear, the border node's beyond the lattice → (N, C)."""
        volume = torch.from_numpy(np.ascontiguousarray(channels, np.float32))[None]  # (1, C, X, Y, Z)
        scale = 2.0 / (self.spacing * (np.array(channels.shape[1:], np.float64) - 1.0))
        normalized = (np.asarray(points, np.float64) - self.origin) * scale - 1.0
        grid = torch.from_numpy(np.ascontiguousarray(normalized[:, ::-1], np.float32))[None, None, None]
        read = torch.nn.functional.grid_sample(volume, grid, mode="bilinear", padding_mode="border",
                                               align_corners=True)
        return read.reshape(channels.shape[0], -1).T.numpy()


@dataclass
class TransformField:
    """The (3, 4) maps of a SkinField's nodes in one pose: (12, X, Y, Z)."""

    maps: np.ndarray
    field: SkinField

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) rest-space points → (N, 3, 4) the maps that pose them."""
        return self.field._read(self.maps, points).reshape(-1, 3, 4)


def skin_field_for(vertices: np.ndarray, bone_indices: np.ndarray, bone_weights: np.ndarray, joints: int,
                   grid: Grid) -> SkinField:
    """The skin field covering the box of `grid` (a canonical lattice) around the rest body."""
    low = grid.origin
    high = grid.origin + grid.voxel * (np.array(grid.shape) - 1)
    return SkinField.around(vertices, bone_indices, bone_weights, joints, low, high)

"""Temporal fusion: a frame's occupancy, averaged with its neighbours' through the fitted body.

A query point of frame t is carried to frame t' by the skinning of its nearest
body vertex (rest pose ← t, then rest pose → t'), the network of frame t' is
asked there, and the answers are averaged with Gaussian weights in |t − t'|.
Surfaces that move with the body agree across frames and stay; noise that
flickers from frame to frame is averaged away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from scipy.spatial import cKDTree

from humanvid.body.skinning import carry_points

FrameOccupancy = Callable[[np.ndarray], np.ndarray]  # (N, 3) camera-frame points → (N,) in [0, 1]


@dataclass
class PosedBody:
    """The fitted body of one frame, enough to carry points with it."""

    vertices: np.ndarray  # (V, 3) posed vertices, camera frame [m]
    transforms: np.ndarray  # (V, 4, 4) per-vertex skinning transforms, rest → posed
    tree: cKDTree = field(init=False, repr=False)

    def __post_init__(self):
        self.tree = cKDTree(self.vertices)


def temporal_weights(window: int, sigma: float | None = None) -> dict[int, float]:
    """Weights of the frame offsets −window … window (they sum to 1)."""
    sigma = sigma if sigma is not None else max(window / 2.0, 0.5)
    offsets = np.arange(-window, window + 1)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return {int(o): float(w) for o, w in zip(offsets, weights / weights.sum())}


def carry(points: np.ndarray, source: PosedBody, target: PosedBody) -> np.ndarray:
    """(N, 3) points of the source frame → where they are in the target frame."""
    _, nearest = source.tree.query(points)
    moved = carry_points(torch.from_numpy(points.astype(np.float64)),
                         torch.from_numpy(source.transforms[nearest].astype(np.float64)),
                         torch.from_numpy(target.transforms[nearest].astype(np.float64)))
    return moved.numpy().astype(np.float32)


def fused_occupancy(frame: int, occupancies: dict[int, FrameOccupancy], bodies: dict[int, PosedBody],
                    window: int) -> FrameOccupancy:
    """The occupancy function of `frame`, fused with the frames up to `window` away that exist."""
    if window == 0:
        return occupancies[frame]
    weights = {frame + o: w for o, w in temporal_weights(window).items() if frame + o in occupancies}

    def occupancy(points: np.ndarray) -> np.ndarray:
        total = np.zeros(len(points), np.float64)
        for other, weight in weights.items():
            where = points if other == frame else carry(points, bodies[frame], bodies[other])
            total += weight * occupancies[other](where)
        return (total / sum(weights.values())).astype(np.float32)

    return occupancy

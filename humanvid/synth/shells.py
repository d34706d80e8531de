"""Offset shells over a posed body, shared by garments, hair and caps, and the bones that carry rigid parts.

A shell is a copy of the closed body surface (one posed frame, Anny's world frame, metres)
whose vertices move out along the normals by a per-vertex thickness (V,): covered vertices
(thickness > 0) form the garment, the others sink under the skin.
"""

from __future__ import annotations

import numpy as np

from humanvid.synth.bodies import PosedBody
from humanvid.synth.regions import BodyRegions


def stack_thickness(thickness: np.ndarray, under: np.ndarray) -> np.ndarray:
    """(V,) a shell's thickness made to clear the shells under it (``under``, (V,)) by a margin."""
    return np.where(thickness > 0, np.maximum(thickness, under + 0.003 + 0.3 * thickness), thickness)


def shell_surface(shell: np.ndarray, faces: np.ndarray, thickness: np.ndarray) -> np.ndarray:
    """(P, 3) label points of a shell: its covered vertices and the centres of its covered faces."""
    covered = thickness > 0
    inner = faces[covered[faces].all(axis=1)]
    return np.concatenate([shell[covered], shell[inner].mean(axis=1)])


def offset_shell(vertices: np.ndarray, normals: np.ndarray, thickness: np.ndarray, regions: BodyRegions,
                 looseness: float = 0.0) -> np.ndarray:
    """(V, 3) shell vertices: ``vertices`` pushed out by ``thickness`` (V,) along ``normals``.

    Loose shells get Taubin smoothing (no shrinkage) on their covered vertices, so the
    cloth spans the body's hollows instead of following every dent.
    """
    shell = vertices + thickness[:, None] * normals
    iterations = int(round(12 * looseness))
    if iterations:
        moving = (thickness > 0)[:, None]
        for _ in range(iterations):
            for factor in (0.6, -0.62):
                shell = shell + factor * moving * (regions.adjacency @ shell - shell)
        # Smoothing may pull the cloth into the body at bumps: keep at least half the thickness.
        height = np.einsum("vi,vi->v", shell - vertices, normals)
        floor = np.where(thickness > 0, 0.5 * thickness, height)
        shell = shell + np.maximum(floor - height, 0.0)[:, None] * normals
    return shell


def swell(shell: np.ndarray, weight: np.ndarray, centre: np.ndarray, semi_axes: np.ndarray,
          transform: np.ndarray) -> np.ndarray:
    """(V, 3) shell vertices pushed out radially from ``centre`` towards an ellipsoid, never pulled in.

    The ellipsoid (``semi_axes`` (3,) [m] about ``centre`` (3,), both in the rest pose) is carried by
    ``transform`` (4, 4, rest → posed, e.g. the head bone's); each vertex moves the ``weight`` (V,)
    in [0, 1] of the way out to it. Rounds a hood or big hair off into one smooth volume.
    """
    middle = transform[:3, :3] @ centre + transform[:3, 3]
    offset = shell - middle
    distance = np.maximum(np.linalg.norm(offset, axis=1), 1e-9)
    local = (offset / distance[:, None]) @ transform[:3, :3]  # directions in the rest frame
    radius = 1.0 / np.sqrt(((local / semi_axes) ** 2).sum(axis=1))
    reach = distance + np.clip(weight, 0.0, 1.0) * np.maximum(radius - distance, 0.0)
    return middle + offset * (reach / distance)[:, None]


def posed_bone_index(posed: PosedBody, regions: BodyRegions, joint: str) -> int:
    """Index of the bone whose rest head is the region landmark ``joint``."""
    heads = posed.rest_bone_poses[:, :3, 3]
    return int(np.argmin(np.linalg.norm(heads - regions.joints[joint], axis=1)))

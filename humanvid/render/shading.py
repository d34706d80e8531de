"""Light on a rendered surface: Lambert + ambient with an optional shadow ray.

Directions are in the camera frame (OpenGL: x right, y up, the camera looks down −z);
albedos are sRGB in [0, 1], shaded in linear light.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from humanvid.camera import Camera


@dataclass(frozen=True)
class Lighting:
    """Lambert + ambient. ``direction`` points from the surface towards the light, camera frame.

    With ``shadows``, points whose ray towards the light hits the mesh get ambient light only.
    """

    direction: tuple[float, float, float] = (0.3, 0.5, 0.8)
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    ambient: float = 0.35
    diffuse: float = 0.75
    shadows: bool = False


def shade(albedo: np.ndarray, normals: np.ndarray, lighting: Lighting, lit: np.ndarray | None = None) -> np.ndarray:
    """Lambert + ambient in linear light. albedo: (P, 3) sRGB in [0, 1]; normals: (P, 3) camera frame;
    lit: (P,) bool, False where the point is in shadow (default: all lit)."""
    direction = np.asarray(lighting.direction, dtype=np.float64)
    direction = direction / np.linalg.norm(direction)
    lambert = np.clip(normals @ direction, 0.0, None)
    if lit is not None:
        lambert = lambert * lit
    light = (lighting.ambient + lighting.diffuse * lambert)[:, None] * np.asarray(lighting.color)
    linear = np.power(np.clip(albedo, 0.0, 1.0), 2.2) * light
    return np.power(np.clip(linear, 0.0, 1.0), 1.0 / 2.2)  # sRGB-like gamma, values in [0, 1]


def unshadowed(mesh: trimesh.Trimesh, points: np.ndarray, normals: np.ndarray, lighting: Lighting,
                camera: Camera) -> np.ndarray:
    """(P,) bool: the ray from each surface point (P, 3) towards the light leaves the mesh unblocked.

    points, normals: world frame; the light's direction is turned from ``camera``'s frame into the world.
    """
    towards = camera.rotation.T @ np.asarray(lighting.direction, dtype=np.float64)  # camera → world
    towards /= np.linalg.norm(towards)
    facing = normals @ towards > 0
    lit = np.zeros(len(points), dtype=bool)
    if not np.any(facing):
        return lit
    origins = points[facing] + 2e-3 * normals[facing]  # leave the surface (2 mm) before tracing
    blocked = mesh.ray.intersects_any(origins, np.broadcast_to(towards, origins.shape))
    lit[np.flatnonzero(facing)[~blocked]] = True
    return lit

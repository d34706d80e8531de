"""A textured mesh seen through a camera: each pixel's colour looked up in the texture at its surface point's uv.

The mesh is rasterised (humanvid.render.raster): it must be closed, faces counter-clockwise from outside."""

from __future__ import annotations

import cv2
import numpy as np
import trimesh

from humanvid.camera import Camera
from humanvid.render.raster import rasterize
from humanvid.render.raycast import interpolate


def render_textured(mesh: trimesh.Trimesh, uv: np.ndarray, uv_faces: np.ndarray, texture: np.ndarray,
                    camera: Camera, shade: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Mask (H, W) bool and colour (H, W, 3) uint8 RGB of the mesh through `camera`.

    uv: (U, 2) in the OBJ convention (v up), uv_faces: (F, 3) rows of `uv` parallel to the mesh's faces,
    texture: (S, S, 3) uint8 RGB with row 0 at v = 1. `shade`: darken by a head-on light on each face (for
    side views, where unlit colour hides the shape; faces, not smooth normals, which cost more than the
    render); off, the colour is the texture's, as the camera saw it.
    """
    hits = rasterize(np.asarray(mesh.vertices), np.asarray(mesh.faces), camera)
    mask = hits.face >= 0
    colour = np.zeros((camera.height, camera.width, 3), np.uint8)
    if not mask.any():
        return mask, colour
    coords = interpolate(uv, np.asarray(uv_faces)[hits.face[mask]], hits.barycentric[mask])
    size = texture.shape[0]
    pixels = np.stack([coords[:, 0] * size - 0.5, (1.0 - coords[:, 1]) * size - 0.5], axis=1)
    values = sample(texture, pixels).astype(np.float32)
    if shade:
        normals = np.asarray(mesh.face_normals)[hits.face[mask]] @ camera.rotation.T
        values *= (0.45 + 0.55 * np.abs(normals[:, 2]))[:, None]
    colour[mask] = np.clip(values + 0.5, 0, 255).astype(np.uint8)
    return mask, colour


def sample(image: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """(N, C) bilinear samples of the (H, W, C) image at (N, 2) pixel coordinates (x, y), edges replicated."""
    width = 1024  # cv2.remap takes maps of fewer than 32,767 rows: lay the points out in rows of this width
    padded = np.zeros((-(-len(pixels) // width) * width, 2), np.float32)
    padded[:len(pixels)] = pixels
    maps = padded.reshape(-1, width, 2)
    channels = image.shape[2] if image.ndim == 3 else 1
    return cv2.remap(image, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE).reshape(-1, channels)[:len(pixels)]

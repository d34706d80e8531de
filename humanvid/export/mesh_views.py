"""Clay renderings of a reconstructed mesh: from the video's crop camera ("front") and turned aside ("side").

Meshes are in the OpenGL camera frame of DESIGN.md (x right, y up, the camera at
the origin looking down −z, metres). The front view goes through the crop
camera — the full-frame camera followed by the crop's 2×3 affine — so it lines
up with crops/NNNNNN.png. The side view turns the mesh about the vertical (y)
axis through its centre and looks at it from the distance and with the focal
length of the front view, so both views share one scale (zoomed out only when
the turned mesh would not fit).

Views are ray cast with ``humanvid.render.raycast`` (trimesh + embreex), with
smooth vertex normals, a key light from the upper left and ambient light, and
supersampled for smooth silhouettes. Reuse one ``trimesh.Trimesh`` for both
views: its ray-tracing structure is built on the first cast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import trimesh

from humanvid.camera import Camera
from humanvid.render.raycast import normal_map
from humanvid.render.shading import Lighting, shade

CLAY_ALBEDO = 0.72
KEY_LIGHT = Lighting(direction=(-0.5, 0.7, 0.5), ambient=0.25, diffuse=0.8)  # upper left, camera frame
BACKGROUND = 255  # grey level of an empty pixel
OVERLAY_TINT = (120, 190, 255)  # light blue: reads as "the mesh", not as the person


@dataclass
class MeshView:
    """A clay rendering. ``shading`` is premultiplied by ``coverage``, so it composites over anything."""

    shading: np.ndarray  # (H, W) float32 grey level in [0, 1] times coverage
    coverage: np.ndarray  # (H, W) float32 fraction of the pixel the mesh covers, in [0, 1]
    camera: Camera

    def image(self, background: int = BACKGROUND) -> np.ndarray:
        """(H, W, 3) uint8: the clay over a plain background."""
        grey = self.shading * 255.0 + (1.0 - self.coverage) * background
        return np.repeat(np.clip(grey + 0.5, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def side_camera(mesh: trimesh.Trimesh, front: Camera, degrees: float = 90.0, fill: float = 0.92) -> Camera:
    """A camera seeing ``mesh`` (in ``front``'s camera frame) turned ``degrees`` about the vertical axis
    through its centre, from the distance of that centre and with ``front``'s focal length, the centre in
    the middle of a square image ``front.height`` pixels wide; zoomed out until the mesh spans at most
    ``fill`` of the image.

    Positive degrees turn the mesh counter-clockwise seen from above: what faced the camera faces right.
    """
    vertices = front.to_camera(np.asarray(mesh.vertices))
    centre = 0.5 * (vertices.min(axis=0) + vertices.max(axis=0))
    radius = 0.5 * float(np.linalg.norm(vertices.max(axis=0) - vertices.min(axis=0)))
    distance = max(float(np.linalg.norm(centre)), 1.5 * radius, 1e-3)
    turn = _rotation_y(math.radians(degrees))
    turned_to_camera = np.eye(4)
    turned_to_camera[:3, :3] = turn
    turned_to_camera[:3, 3] = -turn @ centre + np.array([0.0, 0.0, -distance])
    size = front.height
    focal = 0.5 * (front.fx + front.fy)
    side = Camera(focal, focal, (size - 1) / 2.0, (size - 1) / 2.0, size, size,
                  turned_to_camera @ front.world_to_camera)
    pixels, _ = side.project(np.asarray(mesh.vertices)[:: max(1, len(vertices) // 20000)])  # depth ≥ radius / 2
    spread = float(np.max(np.abs(pixels - [side.cx, side.cy])))
    allowed = fill * 0.5 * (size - 1)
    if spread > allowed:
        focal *= allowed / spread
        side = Camera(focal, focal, side.cx, side.cy, size, size, side.world_to_camera)
    return side


def render_clay(mesh: trimesh.Trimesh, camera: Camera, supersample: int = 2) -> MeshView:
    """Grey clay shading of ``mesh`` (world coordinates of ``camera``), ``supersample``² rays per pixel."""
    fine = camera.resized(supersample) if supersample > 1 else camera
    mask, normals = normal_map(mesh, fine)
    grey = np.zeros(mask.shape, dtype=np.float32)
    if mask.any():
        albedo = np.full((int(mask.sum()), 3), CLAY_ALBEDO)
        grey[mask] = shade(albedo, normals[mask], KEY_LIGHT)[:, 0]
    coverage = mask.astype(np.float32)
    if supersample > 1:
        size = (camera.width, camera.height)
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        coverage = cv2.resize(coverage, size, interpolation=cv2.INTER_AREA)
    return MeshView(grey, coverage, camera)


def front_view(mesh: trimesh.Trimesh, camera: Camera, supersample: int = 2) -> MeshView:
    """``mesh`` through the video's (crop) camera: lines up with the image it was reconstructed from."""
    return render_clay(mesh, camera, supersample)


def side_view(mesh: trimesh.Trimesh, front: Camera, degrees: float = 90.0, supersample: int = 2) -> MeshView:
    """``mesh`` turned ``degrees`` about its vertical axis, at the scale of the front view (see side_camera)."""
    return render_clay(mesh, side_camera(mesh, front, degrees), supersample)


def overlay(image: np.ndarray, view: MeshView, opacity: float = 0.6,
            tint: tuple[int, int, int] = OVERLAY_TINT) -> np.ndarray:
    """(H, W, 3) uint8 ``image`` with the view's tinted clay laid over it at ``opacity``."""
    if image.shape[:2] != view.coverage.shape:
        raise ValueError(f"image {image.shape[:2]} and view {view.coverage.shape} differ in size")
    alpha = opacity * view.coverage[..., None]
    clay = opacity * view.shading[..., None] * np.asarray(tint, np.float32)
    out = image.astype(np.float32) * (1.0 - alpha) + clay
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _rotation_y(angle: float) -> np.ndarray:
    """(3, 3) rotation by ``angle`` radians about +y (counter-clockwise seen from above)."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])

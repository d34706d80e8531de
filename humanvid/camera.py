"""The pinhole camera every part of humanvid shares: full-frame intrinsics and a pose.

Conventions (DESIGN.md): pixel centres at integer coordinates, origin top-left;
the camera frame is OpenGL's — x right, y up, the camera at the origin looking
down −z. ``Camera.world_to_camera`` maps world points straight into that frame
(the identity for a video's own camera, whose frame is the export frame).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from humanvid.constants import DEFAULT_VERTICAL_FOV_DEG
from humanvid.projection import crop_camera, intrinsic_matrix, project

# OpenGL camera frame → OpenCV camera frame (x right, y down, looking down +z) and back.
GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])


@dataclass(frozen=True)
class Camera:
    """Full-frame pinhole camera: intrinsics [px] and a 4×4 world → OpenGL-camera transform."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    world_to_camera: np.ndarray = field(default_factory=lambda: np.eye(4))  # (4, 4)

    @property
    def intrinsics(self) -> np.ndarray:
        """(4,) fx, fy, cx, cy [px]."""
        return np.array([self.fx, self.fy, self.cx, self.cy])

    @property
    def K(self) -> np.ndarray:
        """(3, 3) intrinsic matrix in the OpenCV sense (for the OpenCV camera frame)."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def rotation(self) -> np.ndarray:
        """(3, 3) world → camera rotation."""
        return self.world_to_camera[:3, :3]

    @property
    def camera_to_world(self) -> np.ndarray:
        """(4, 4) inverse of ``world_to_camera``."""
        return rigid_inverse(self.world_to_camera)

    @property
    def position(self) -> np.ndarray:
        """(3,) camera centre in world coordinates."""
        return -self.rotation.T @ self.world_to_camera[:3, 3]

    @property
    def world_to_camera_cv(self) -> np.ndarray:
        """(4, 4) world → OpenCV camera frame (x right, y down, looking down +z)."""
        return GL_TO_CV @ self.world_to_camera

    @property
    def vertical_fov_deg(self) -> float:
        return math.degrees(2.0 * math.atan(0.5 * self.height / self.fy))

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) world points → (N, 3) points in the OpenGL camera frame."""
        points = np.asarray(points, dtype=np.float64)
        return points @ self.rotation.T + self.world_to_camera[:3, 3]

    @property
    def matrix(self) -> np.ndarray:
        """(3, 3) pixel-from-image-plane matrix of this camera (humanvid.projection)."""
        return intrinsic_matrix(self.fx, self.fy, self.cx, self.cy)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) world points → (N, 2) pixel coordinates and (N,) depth [m] along −z
        (pixels of points nearer than MIN_DEPTH, or behind the camera, are those of MIN_DEPTH)."""
        cam = self.to_camera(points)
        return project(cam, self.matrix), -cam[:, 2]

    def cropped(self, affine: np.ndarray, size: int) -> "Camera":
        """The camera of a size×size crop cut from this camera's frame by a (2, 3) full-frame → crop affine,
        which must scale and shift only (no rotation or shear), as humanvid's crops do."""
        affine = np.asarray(affine, dtype=np.float64)
        (sx, shear_x, _), (shear_y, sy, _) = affine
        if abs(shear_x) > 1e-9 * abs(sx) or abs(shear_y) > 1e-9 * abs(sy):
            raise ValueError(f"crop affine {affine.tolist()} rotates or shears; a pinhole crop camera cannot")
        matrix = crop_camera(self.intrinsics, affine)
        return Camera(matrix[0, 0], matrix[1, 1], matrix[0, 2], matrix[1, 2], size, size, self.world_to_camera)

    def pixel_rays(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Ray directions in the camera frame through pixel centres, scaled so z = −1.

        rows, cols: (N,) integer pixel indices → (N, 3); the ray parameter of a
        hit is then its depth along −z.
        """
        x = (np.asarray(cols, dtype=np.float64) - self.cx) / self.fx
        y = -(np.asarray(rows, dtype=np.float64) - self.cy) / self.fy
        return np.stack([x, y, -np.ones_like(x)], axis=1)

    def resized(self, scale: float) -> "Camera":
        """The same view with `scale`× the pixels per side (as cv2.resize maps pixel centres)."""
        return Camera(self.fx * scale, self.fy * scale, (self.cx + 0.5) * scale - 0.5, (self.cy + 0.5) * scale - 0.5,
                      round(self.width * scale), round(self.height * scale), self.world_to_camera)

    @classmethod
    def for_frame(cls, width: int, height: int, focal: float | None = None) -> "Camera":
        """A video's own camera: square pixels, centred principal point, 55° vertical FOV by default."""
        if focal is None:
            focal = 0.5 * height / math.tan(math.radians(DEFAULT_VERTICAL_FOV_DEG) / 2.0)
        return cls(float(focal), float(focal), (width - 1) / 2.0, (height - 1) / 2.0, int(width), int(height))

    def with_world_to_camera(self, world_to_camera: np.ndarray) -> "Camera":
        return Camera(self.fx, self.fy, self.cx, self.cy, self.width, self.height, np.asarray(world_to_camera, float))

    def as_dict(self) -> dict:
        """Intrinsics with the keys of ``camera.json`` plus the extrinsics."""
        return {
            "fx": float(self.fx), "fy": float(self.fy), "cx": float(self.cx), "cy": float(self.cy),
            "width": int(self.width), "height": int(self.height),
            "world_to_camera": np.asarray(self.world_to_camera, float).tolist(),
            "convention": "OpenGL camera frame: x right, y up, camera at the origin looking down -z; "
                          "pixel centres at integer coordinates, origin top-left",
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Camera":
        return cls(float(data["fx"]), float(data["fy"]), float(data["cx"]), float(data["cy"]),
                   int(data["width"]), int(data["height"]),
                   np.asarray(data.get("world_to_camera", np.eye(4)), dtype=np.float64))


def rigid_inverse(transform: np.ndarray) -> np.ndarray:
    """(4, 4) inverse of a rotation + translation."""
    inverse = np.eye(4)
    inverse[:3, :3] = transform[:3, :3].T
    inverse[:3, 3] = -transform[:3, :3].T @ transform[:3, 3]
    return inverse


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray = (0.0, 0.0, 1.0), roll_deg: float = 0.0) -> np.ndarray:
    """(4, 4) world → OpenGL camera transform of a camera at ``eye`` looking at ``target``.

    ``up`` is the world direction that appears upwards in the image (before ``roll_deg``,
    a rotation about the viewing axis, counter-clockwise in the image).
    """
    eye, target, up = (np.asarray(a, dtype=np.float64) for a in (eye, target, up))
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-9:  # looking straight along `up`: any right vector will do
        right = np.cross(forward, np.roll(up, 1))
    right /= np.linalg.norm(right)
    true_up = np.cross(right, forward)
    rotation = np.stack([right, true_up, -forward])
    if roll_deg:
        a = math.radians(roll_deg)
        roll = np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])
        rotation = roll @ rotation
    transform = np.eye(4)
    transform[:3, :3] = rotation
    transform[:3, 3] = -rotation @ eye
    return transform

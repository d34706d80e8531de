"""Pinhole cameras for rendering synthetic people, and random video-like viewpoints.

Conventions (see DESIGN.md): pixel centres at integer coordinates, origin
top-left; the camera frame is OpenGL's — x right, y up, the camera at the
origin looking down −z. ``Camera.world_to_camera`` maps world points straight
into that frame, so ``camera.to_camera(world_points)`` gives vertices in the
frame humanvid exports meshes in. The synthetic people stand in Anny's world
frame (metres, z up, the body facing −y).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# OpenGL camera frame → OpenCV camera frame (x right, y down, looking down +z) and back.
GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])

# Frame sizes (width, height) like phone and camera videos, all ≤ ~1 MP.
VIDEO_FRAME_SIZES = ((720, 1280), (1280, 720), (960, 960), (720, 960), (960, 720), (540, 960), (960, 540))


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

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) world points → (N, 2) pixel coordinates and (N,) depth [m] along −z."""
        cam = self.to_camera(points)
        depth = -cam[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = self.cx + self.fx * cam[:, 0] / depth
            v = self.cy - self.fy * cam[:, 1] / depth
        return np.stack([u, v], axis=1), depth

    def pixel_rays(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Ray directions in the camera frame through pixel centres, scaled so z = −1.

        rows, cols: (N,) integer pixel indices → (N, 3); the ray parameter of a
        hit is then its depth along −z.
        """
        x = (np.asarray(cols, dtype=np.float64) - self.cx) / self.fx
        y = -(np.asarray(rows, dtype=np.float64) - self.cy) / self.fy
        return np.stack([x, y, -np.ones_like(x)], axis=1)

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


def intrinsics_from_fov(width: int, height: int, vertical_fov_deg: float) -> tuple[float, float, float, float]:
    """(fx, fy, cx, cy) of square pixels with the principal point at the image centre."""
    focal = 0.5 * height / math.tan(math.radians(vertical_fov_deg) / 2.0)
    return focal, focal, (width - 1) / 2.0, (height - 1) / 2.0


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


@dataclass(frozen=True)
class ViewRanges:
    """Ranges of the random video-like viewpoints around a standing person."""

    vertical_fov_deg: tuple[float, float] = (40.0, 65.0)  # phone-like lenses
    person_fraction: tuple[float, float] = (0.4, 0.9)  # person height / frame height
    camera_height: tuple[float, float] = (0.8, 1.8)  # metres above the floor
    roll_deg: float = 4.0  # ± camera roll
    target_jitter: float = 0.15  # ± metres of aim jitter (pitch/yaw off the body centre)
    yaw_deg: tuple[float, float] = (0.0, 360.0)  # 0 = front view (camera on the −y side)
    frame_sizes: tuple[tuple[int, int], ...] = VIDEO_FRAME_SIZES
    margin: float = 0.03  # keep the person this fraction of the frame away from the borders


def sample_camera(
    rng: np.random.Generator,
    points: np.ndarray,
    ranges: ViewRanges = ViewRanges(),
    up: np.ndarray = (0.0, 0.0, 1.0),
    floor: float | None = None,
) -> Camera:
    """A random video-like camera that sees the whole person.

    points: (N, 3) world points of the person (mesh vertices, subsampled is fine).
    up: the world's up axis (Anny: +z); the front of the person is −y.
    floor: height of the floor along ``up`` (default: the lowest point).
    Yaw covers all directions (front, side, back views); the camera stands
    ``camera_height`` above the floor, is aimed near the body centre with a
    small roll, and its distance and aim are adjusted so the person covers
    ``person_fraction`` of the frame height and stays inside the frame.
    """
    points = np.asarray(points, dtype=np.float64)
    up = np.asarray(up, dtype=np.float64) / np.linalg.norm(up)
    width, height = ranges.frame_sizes[rng.integers(len(ranges.frame_sizes))]
    fov = rng.uniform(*ranges.vertical_fov_deg)
    fraction = rng.uniform(*ranges.person_fraction)
    camera_height = rng.uniform(*ranges.camera_height)
    yaw = math.radians(rng.uniform(*ranges.yaw_deg))
    roll = rng.uniform(-ranges.roll_deg, ranges.roll_deg)
    jitter = rng.uniform(-ranges.target_jitter, ranges.target_jitter, size=3)
    placement = rng.uniform(0.0, 1.0, size=2)  # where the person sits in the free space of the frame

    heights = points @ up
    floor = float(heights.min()) if floor is None else float(floor)
    body_height = float(heights.max() - floor)
    centre = 0.5 * (points.min(axis=0) + points.max(axis=0))
    # A horizontal frame: `front` is the direction the body faces (−y in Anny), `side` completes it.
    front = np.array([0.0, -1.0, 0.0]) - up * (-up[1])
    front /= np.linalg.norm(front)
    side = np.cross(up, front)
    horizontal = math.cos(yaw) * front + math.sin(yaw) * side

    fx, fy, cx, cy = intrinsics_from_fov(width, height, fov)
    camera = Camera(fx, fy, cx, cy, width, height)
    target = centre + jitter * np.array([1.0, 1.0, 0.5]) * max(body_height, 0.5) / 1.7
    distance = max(body_height, 0.3) * fy / (fraction * height)
    for _ in range(4):  # fixed point: distance ∝ 1 / projected size
        eye = centre + horizontal * distance
        eye = eye - up * (eye @ up) + up * (floor + camera_height)
        camera = camera.with_world_to_camera(look_at(eye, target, up, roll))
        pixels, depth = camera.project(points)
        if np.any(depth <= 0.05):
            distance *= 1.5
            continue
        extent = float(pixels[:, 1].max() - pixels[:, 1].min())
        distance *= extent / (fraction * height)
    return _place_in_frame(camera, points, placement, ranges.margin)


def _place_in_frame(camera: Camera, points: np.ndarray, placement: np.ndarray, margin: float) -> Camera:
    """Pan and tilt the camera (about its centre, so its height stays) until the person's box lies
    at ``placement`` (0..1 per axis) of the free space in the frame; steps back if it can't fit."""
    size = np.array([camera.width, camera.height], dtype=np.float64)
    border = margin * size
    for _ in range(6):
        pixels, depth = camera.project(points)
        lo, hi = pixels.min(axis=0), pixels.max(axis=0)
        free = size - 2 * border - (hi - lo)
        if np.any(free < 0):  # too big for the frame: step back
            scale = float(np.max((hi - lo) / (size - 2 * border)))
            camera = _dolly(camera, float(np.median(depth)) * (scale - 1.0) + 0.05)
            continue
        shift = border + free * placement - lo  # (2,) desired move of the box [px]
        if np.all(np.abs(shift) < 0.5):
            break
        centre = 0.5 * (lo + hi) - np.array([camera.cx, camera.cy])
        yaw = math.atan((centre[0] + shift[0]) / camera.fx) - math.atan(centre[0] / camera.fx)
        pitch = math.atan((centre[1] + shift[1]) / camera.fy) - math.atan(centre[1] / camera.fy)
        c, s = math.cos(-yaw), math.sin(-yaw)
        pan = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        c, s = math.cos(-pitch), math.sin(-pitch)
        tilt = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
        turn = np.eye(4)
        turn[:3, :3] = tilt @ pan
        camera = camera.with_world_to_camera(turn @ camera.world_to_camera)
    return camera


def _dolly(camera: Camera, amount: float) -> Camera:
    """Move the camera ``amount`` metres backwards along its viewing axis."""
    transform = camera.world_to_camera.copy()
    transform[2, 3] -= amount
    return camera.with_world_to_camera(transform)

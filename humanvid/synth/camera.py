"""Random video-like viewpoints of synthetic people, as :class:`humanvid.camera.Camera` s.

Cameras follow humanvid.camera's conventions (DESIGN.md: pixel centres at integer
coordinates, OpenGL camera frame), so ``camera.to_camera(world_points)`` gives
vertices in the frame humanvid exports meshes in. The synthetic people stand in
Anny's world frame (metres, z up, the body facing −y).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from humanvid.camera import Camera, look_at

# Frame sizes (width, height) like phone and camera videos, all ≤ ~1 MP.
VIDEO_FRAME_SIZES = ((720, 1280), (1280, 720), (960, 960), (720, 960), (960, 720), (540, 960), (960, 540))


def intrinsics_from_fov(width: int, height: int, vertical_fov_deg: float) -> tuple[float, float, float, float]:
    """(fx, fy, cx, cy) of square pixels with the principal point at the image centre."""
    focal = 0.5 * height / math.tan(math.radians(vertical_fov_deg) / 2.0)
    return focal, focal, (width - 1) / 2.0, (height - 1) / 2.0


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
    # Steepest view up or down at the body centre: a camera high above a bending or sitting person,
    # close by, looks down at 40-60°, rare in video and where MediaPipe misses a quarter of the people.
    max_pitch_deg: float = 25.0


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
        eye = _limit_pitch(eye, target, up, ranges.max_pitch_deg)
        camera = camera.with_world_to_camera(look_at(eye, target, up, roll))
        pixels, depth = camera.project(points)
        if np.any(depth <= 0.05):
            distance *= 1.5
            continue
        extent = float(pixels[:, 1].max() - pixels[:, 1].min())
        distance *= extent / (fraction * height)
    return _place_in_frame(camera, points, placement, ranges.margin)


def _limit_pitch(eye: np.ndarray, target: np.ndarray, up: np.ndarray, max_pitch_deg: float) -> np.ndarray:
    """``eye`` moved along ``up`` so that it sees ``target`` at most ``max_pitch_deg`` from the horizontal."""
    offset = eye - target
    vertical = float(offset @ up)
    limit = math.tan(math.radians(max_pitch_deg)) * float(np.linalg.norm(offset - up * vertical))
    if abs(vertical) <= limit:
        return eye
    return eye - up * (vertical - math.copysign(limit, vertical))


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

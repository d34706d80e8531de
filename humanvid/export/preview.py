"""Preview videos: meshes in the camera frame drawn over the frames they were made from.

A mesh preview frame is two panels side by side: the video frame with the clothed mesh drawn over it
through the video camera (coloured by its texture, or tinted when there is none), and the same mesh from
a camera that circles it (one turn every ``TURN_SECONDS``), shaded, on grey.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np
import trimesh

from humanvid.atomic import atomic_path
from humanvid.camera import Camera
from humanvid.exchange.run_folder import RunFolder
from humanvid.render.raycast import normal_map
from humanvid.render.textured import render_textured


@dataclass
class Surface:
    """A mesh's texture: coordinates and image."""

    uv: np.ndarray  # (U, 2) OBJ convention
    uv_faces: np.ndarray  # (F, 3) rows of uv per face
    texture: np.ndarray  # (S, S, 3) uint8 RGB, row 0 at v = 1

TINT = np.array([120, 190, 255], np.float32)  # light blue, so the overlay reads as "not the person"
TURN_SECONDS = 6.0  # the side panel's camera circles the person once in this time
SIDE_BACKGROUND = 96  # grey level behind the side panel's mesh
SIDE_FILL = 0.8  # share of the side panel's height the person takes


def overlay(frame: np.ndarray, mesh: trimesh.Trimesh, camera: Camera, opacity: float = 0.65) -> np.ndarray:
    """The frame (H, W, 3) uint8 RGB with the mesh shaded over it (head-on light)."""
    mask, normals = normal_map(mesh, camera)
    if not mask.any():
        return frame.copy()
    light = 0.35 + 0.65 * np.clip(normals[..., 2], 0.0, 1.0)  # normals face the camera (+z)
    shaded = TINT * light[..., None]
    out = frame.astype(np.float32)
    out[mask] = (1.0 - opacity) * out[mask] + opacity * shaded[mask]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def textured_overlay(frame: np.ndarray, mesh: trimesh.Trimesh, camera: Camera, surface: "Surface | None"
                     ) -> np.ndarray:
    """The frame (H, W, 3) uint8 RGB with the mesh drawn over it in its texture's colours (tinted without)."""
    if surface is None:
        return overlay(frame, mesh, camera)
    mask, colour = render_textured(mesh, surface.uv, surface.uv_faces, surface.texture, camera)
    out = frame.copy()
    out[mask] = colour[mask]
    return out


def side_view(mesh: trimesh.Trimesh, angle: float, camera: Camera, surface: "Surface | None") -> np.ndarray:
    """(H, W, 3) uint8 RGB: the mesh seen from a camera circling it `angle` radians about the vertical axis
    through its centre (0: from the video camera's side), framed to SIDE_FILL of `camera`'s height."""
    orbit = orbit_camera(mesh, angle, camera)
    image = np.full((camera.height, camera.width, 3), SIDE_BACKGROUND, np.uint8)
    if surface is None:
        mask, normals = normal_map(mesh, orbit)
        image[mask] = np.clip(TINT * (0.35 + 0.65 * np.clip(normals[mask][:, 2:], 0.0, 1.0)) + 0.5, 0, 255)
        return image
    mask, colour = render_textured(mesh, surface.uv, surface.uv_faces, surface.texture, orbit, shade=True)
    image[mask] = colour[mask]
    return image


def orbit_camera(mesh: trimesh.Trimesh, angle: float, camera: Camera) -> Camera:
    """A camera with `camera`'s intrinsics looking at the mesh's box centre from `angle` radians around it
    (about the camera frame's y axis), far enough for the mesh's height to fill SIDE_FILL of the image."""
    low, high = mesh.bounds
    centre = 0.5 * (low + high)
    extent = max(high[1] - low[1], 0.5 * np.linalg.norm(high - low))
    distance = extent * camera.fy / (SIDE_FILL * camera.height) + 0.5 * (high[2] - low[2])
    back = np.array([np.sin(angle), 0.0, np.cos(angle)])  # from the centre towards the orbit camera (+z: the video's)
    right = np.cross([0.0, 1.0, 0.0], back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = np.stack([right, up, back])
    world_to_camera[:3, 3] = -world_to_camera[:3, :3] @ (centre + distance * back)
    return camera.with_world_to_camera(world_to_camera)


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float) -> int:
    """Write RGB frames as an MP4 (atomically); returns the number of frames written."""
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return 0
    count = 0
    with atomic_path(path, suffix=".mp4") as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (first.shape[1], first.shape[0]))
        try:
            for frame in _chain(first, frames):
                writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                count += 1
        finally:
            writer.release()
    return count


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest


def body_preview_frames(info, selection, run: RunFolder, on_frame=lambda: None) -> Iterator[np.ndarray]:
    """The selected frames of the input with body/NNNNNN.obj drawn over each (streamed)."""
    from preprocessing.video import iter_frames

    camera = run.read_camera()
    for frame in iter_frames(info, selection):
        if frame.image is None:
            continue
        path = run.body_mesh_path(frame.index)
        drawn = overlay(frame.image, trimesh.load(path, process=False), camera) if path.exists() else frame.image
        on_frame()
        yield drawn

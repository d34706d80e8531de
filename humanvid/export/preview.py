"""Preview videos: meshes in the camera frame drawn over the frames they were made from."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np
import trimesh

from humanvid.atomic import atomic_path
from humanvid.camera import Camera
from humanvid.exchange.run_folder import RunFolder
from humanvid.render.raycast import normal_map

TINT = np.array([120, 190, 255], np.float32)  # light blue, so the overlay reads as "not the person"


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

"""Compact, atomic files for a ``Rendering``, and reading them back.

``NAME.png`` RGB · ``NAME_mask.png`` 0/255 · ``NAME_depth.png`` uint16 millimetres
(0 = empty) · ``NAME_normals.png`` (n + 1) / 2 × 255 in the OpenGL camera frame
(0 where empty) · ``NAME_labels.png`` uint8 label + 1 (0 = empty) ·
``NAME_camera.json`` intrinsics and world → camera transform.
PNG encoding is deterministic, so equal renderings give byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from humanvid.atomic import write_bytes, write_image, write_json
from humanvid.camera import Camera
from humanvid.synth.render import Rendering

MAX_DEPTH_MM = 65535


def write_rendering(rendering: Rendering, folder: str | Path, name: str, rgb_folder: str | Path | None = None
                    ) -> list[Path]:
    """Write the six files of ``rendering`` into ``folder`` (``NAME.png`` into ``rgb_folder`` if given,
    so that a folder of frames holds nothing else); returns their paths."""
    folder = Path(folder)
    mask = rendering.mask
    depth_mm = np.where(mask, np.clip(np.round(rendering.depth * 1000.0), 1, MAX_DEPTH_MM), 0).astype(np.uint16)
    normals = np.where(mask[..., None], np.clip(np.round((rendering.normals + 1.0) * 127.5), 0, 255), 0)
    labels = np.where(mask, np.clip(rendering.labels.astype(np.int32) + 1, 0, 255), 0).astype(np.uint8)
    paths = [Path(rgb_folder or folder) / f"{name}.png"]
    paths += [folder / f"{name}{suffix}" for suffix in ("_mask.png", "_depth.png", "_normals.png", "_labels.png",
                                                         "_camera.json")]
    write_image(paths[0], rendering.rgb)
    write_image(paths[1], mask.astype(np.uint8) * 255)
    ok, buffer = cv2.imencode(".png", depth_mm, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise OSError(f"could not encode {paths[2].name}")
    write_bytes(paths[2], buffer.tobytes())
    write_image(paths[3], normals.astype(np.uint8))
    write_image(paths[4], labels)
    write_json(paths[5], rendering.camera.as_dict())
    return paths


def read_rendering(folder: str | Path, name: str, rgb_folder: str | Path | None = None) -> Rendering:
    """Read what ``write_rendering`` wrote (depth to the millimetre, normals to ~1°)."""
    folder = Path(folder)
    rgb_path = Path(rgb_folder or folder) / f"{name}.png"
    rgb = cv2.cvtColor(cv2.imread(str(rgb_path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    mask = cv2.imread(str(folder / f"{name}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    depth = cv2.imread(str(folder / f"{name}_depth.png"), cv2.IMREAD_UNCHANGED).astype(np.float32) / 1000.0
    normals_png = cv2.cvtColor(cv2.imread(str(folder / f"{name}_normals.png"), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    normals = normals_png.astype(np.float32) / 127.5 - 1.0
    length = np.linalg.norm(normals, axis=-1, keepdims=True)
    normals = np.where(mask[..., None], normals / np.maximum(length, 1e-6), 0.0).astype(np.float32)
    labels = cv2.imread(str(folder / f"{name}_labels.png"), cv2.IMREAD_GRAYSCALE).astype(np.int16) - 1
    camera = Camera.from_dict(json.loads((folder / f"{name}_camera.json").read_text()))
    return Rendering(rgb, mask, depth, normals, labels, camera)

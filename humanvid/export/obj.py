"""Wavefront OBJ files: plain, fast to write, readable by Blender and MeshLab."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humanvid import atomic


def obj_text(vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None) -> str:
    """OBJ text of (V, 3) vertices [m], (F, 3) 0-based faces and optional (V, 3) colours in [0, 1]."""
    if colors is None:
        vertex_lines = ["v %.5f %.5f %.5f" % tuple(row) for row in vertices.tolist()]
    else:
        vertex_lines = ["v %.5f %.5f %.5f %.4f %.4f %.4f" % tuple(row) for row in np.hstack([vertices, colors]).tolist()]
    face_lines = ["f %d %d %d" % tuple(row) for row in (np.asarray(faces) + 1).tolist()]
    return "\n".join(["# humanvid", *vertex_lines, *face_lines]) + "\n"


def write_obj(path: str | Path, vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None) -> None:
    atomic.write_text(path, obj_text(np.asarray(vertices, np.float64), faces, colors))

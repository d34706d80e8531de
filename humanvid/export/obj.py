"""Wavefront OBJ files: plain, fast to write, readable by Blender and MeshLab."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humanvid import atomic


def obj_text(vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None) -> str:
    """OBJ text of (V, 3) vertices [m], (F, 3) 0-based faces and optional (V, 3) colours in [0, 1]."""
    vertices = np.asarray(vertices, np.float64)
    if colors is None:
        vertex_text = _lines("v %.5f %.5f %.5f\n", vertices)
    else:
        vertex_text = _lines("v %.5f %.5f %.5f %.4f %.4f %.4f\n", np.hstack([vertices, colors]))
    return "# humanvid\n" + vertex_text + _lines("f %d %d %d\n", np.asarray(faces, np.int64) + 1)


def _lines(line: str, rows: np.ndarray) -> str:
    """One formatted line per row: a single %-format of the whole table (much faster than a line at a time)."""
    return (line * len(rows)) % tuple(rows.ravel().tolist()) if len(rows) else ""


def write_obj(path: str | Path, vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None) -> None:
    atomic.write_text(path, obj_text(np.asarray(vertices, np.float64), faces, colors))

"""Wavefront OBJ files: plain, fast to write, readable by Blender and MeshLab."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humanvid import atomic

_POWERS = 10 ** np.arange(19, dtype=np.int64)  # 10⁰ … 10¹⁸


def obj_text(vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None) -> str:
    """OBJ text of (V, 3) vertices [m], (F, 3) 0-based faces and optional (V, 3) colours in [0, 1]."""
    vertices = np.asarray(vertices, np.float64)
    if colors is None:
        vertex_text = table_text("v", vertices, (5, 5, 5))
    else:
        vertex_text = table_text("v", np.hstack([vertices, colors]), (5, 5, 5, 4, 4, 4))
    return "# humanvid\n" + vertex_text + table_text("f", np.asarray(faces, np.int64) + 1, (0, 0, 0))


def table_text(prefix: str, rows: np.ndarray, decimals: tuple[int, ...]) -> str:
    """One line per row of the (R, C) table: the prefix, then each number in fixed point with its column's
    number of decimals (0: an integer), space-separated, as "%.{d}f" writes them.

    The lines are first written in fixed-width columns (numbers right-aligned), by digit arithmetic on whole
    arrays; the padding is then dropped. Faster than Python's string formatting, which took ~0.1 s per mesh.
    """
    rows = np.asarray(rows)
    if rows.ndim != 2 or rows.shape[1] != len(decimals):
        raise ValueError("rows must be a table with one number of decimals per column")
    if not len(rows):
        return ""
    numbers = []
    for column, places in enumerate(decimals):
        values = rows[:, column]
        scaled = np.rint(values * 10.0**places).astype(np.int64) if places else values.astype(np.int64)
        magnitude = np.abs(scaled)
        whole_digits = np.searchsorted(_POWERS[1:], magnitude // _POWERS[places], side="right") + 1  # ≥ 1
        numbers.append((places, scaled < 0, magnitude, whole_digits))
    # a number's slot: " ", a sign, the longest whole part of its column, then "." and the decimals
    widths = [2 + int(whole.max()) + (places + 1 if places else 0) for places, _, _, whole in numbers]
    lines = np.zeros((len(rows), len(prefix) + sum(widths) + 1), np.uint8)
    shown = np.ones(lines.shape, bool)
    lines[:, :len(prefix)] = np.frombuffer(prefix.encode("ascii"), np.uint8)
    lines[:, -1] = ord("\n")
    end = len(prefix)
    for (places, negative, magnitude, whole_digits), width in zip(numbers, widths):
        start, end = end, end + width
        lines[:, start] = ord(" ")
        shown[:, start + 1] = False  # the sign slot, used only by the widest negative numbers
        if places:
            lines[:, end - 1 - places] = ord(".")
        for k in range(width - 2 - (1 if places else 0)):  # digits, last first, skipping the "."
            at = end - 1 - k - (1 if places and k >= places else 0)
            lines[:, at] = magnitude % 10 + ord("0")
            magnitude = magnitude // 10
            if k >= places:  # a whole-part digit: shown only up to the number's own length
                shown[:, at] = k - places < whole_digits
        sign_at = end - 1 - places - (1 if places else 0) - whole_digits  # just before the first digit
        lines[negative, sign_at[negative]] = ord("-")
        shown[negative, sign_at[negative]] = True
    return lines[shown].tobytes().decode("ascii")


def write_obj(path: str | Path, vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None) -> None:
    atomic.write_text(path, obj_text(np.asarray(vertices, np.float64), faces, colors))

"""Wavefront OBJ and MTL files: plain, fast to write, readable by Blender and MeshLab.

A textured OBJ of humanvid names its material library (`mtllib`) and lists `v` lines, then `vt` lines
(texture coordinates, OBJ convention: v up), `usemtl`, and faces as `f v/vt v/vt v/vt`: the vertices stay
one per surface point (a sequence keeps one vertex list), while a vertex on a texture seam has one `vt`
per chart it borders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanvid import atomic

_POWERS = 10 ** np.arange(19, dtype=np.int64)  # 10⁰ … 10¹⁸


MATERIAL = "person"


@dataclass(frozen=True)
class TexturedTopology:
    """What every textured OBJ of one mesh shares: its material library, texture coordinates and faces."""

    library: str  # the MTL file, relative to the OBJ's folder
    text: str  # the `vt`, `usemtl` and `f` lines

    @classmethod
    def of(cls, faces: np.ndarray, uv: np.ndarray, uv_faces: np.ndarray, library: str) -> "TexturedTopology":
        """(F, 3) 0-based faces, (U, 2) texture coordinates and (F, 3) 0-based rows of `uv` per face corner."""
        corners = np.stack([np.asarray(faces, np.int64), np.asarray(uv_faces, np.int64)], axis=2).reshape(-1, 6)
        return cls(library, table_text("vt", np.asarray(uv, np.float64), (6, 6)) + f"usemtl {MATERIAL}\n"
                   + table_text("f", corners + 1, (0,) * 6, " / / / "))


@dataclass
class ObjMesh:
    vertices: np.ndarray  # (V, 3) float64
    faces: np.ndarray  # (F, 3) int64, 0-based
    uv: np.ndarray | None  # (U, 2) float64 or None
    uv_faces: np.ndarray | None  # (F, 3) int64 rows of uv, or None


def obj_text(vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None,
             topology: TexturedTopology | None = None) -> str:
    """OBJ text of (V, 3) vertices [m], (F, 3) 0-based faces and optional (V, 3) colours in [0, 1]; with a
    `topology` (made for these faces), textured."""
    vertices = np.asarray(vertices, np.float64)
    if colors is None:
        vertex_text = table_text("v", vertices, (5, 5, 5))
    else:
        vertex_text = table_text("v", np.hstack([vertices, colors]), (5, 5, 5, 4, 4, 4))
    if topology is not None:
        return f"# humanvid\nmtllib {topology.library}\n" + vertex_text + topology.text
    return "# humanvid\n" + vertex_text + table_text("f", np.asarray(faces, np.int64) + 1, (0, 0, 0))


def mtl_text(texture: str) -> str:
    """A material library of one matte material whose colour is the image `texture` (relative path)."""
    return (f"# humanvid\nnewmtl {MATERIAL}\nKa 1.000 1.000 1.000\nKd 1.000 1.000 1.000\nKs 0.000 0.000 0.000\n"
            f"Ns 1.0\nillum 1\nd 1.0\nmap_Kd {texture}\n")


def read_obj(path: str | Path, vertices_only: bool = False) -> ObjMesh:
    """The vertices, triangles and texture coordinates of an OBJ file (`v`, `vt` and `f` lines of triangles
    as v, v/vt or v/vt/vn; normals and materials ignored). Raises ValueError if it is not such a file."""
    text = Path(path).read_text()

    def numbers(prefix: str, dtype) -> np.ndarray:
        lines = re.findall(rf"^{prefix} (.*)$", text, re.M)
        return np.fromstring(" ".join(lines).replace("/", " "), dtype=dtype, sep=" "), len(lines)

    try:
        if vertices_only:
            return ObjMesh(_vertex_block(text), np.empty((0, 3), np.int64), None, None)
        values, count = numbers("v", np.float64)
        vertices = values.reshape(count, -1)[:, :3]
        values, count = numbers("vt", np.float64)
        uv = values.reshape(count, -1)[:, :2] if count else None
        values, count = numbers("f", np.int64)
        table = values.reshape(count, -1) - 1
        if table.shape[1] == 3:
            faces, uv_faces = table, None
        elif table.shape[1] in (6, 9) and uv is not None:  # v/vt or v/vt/vn per corner
            step = table.shape[1] // 3
            faces, uv_faces = table[:, 0::step], table[:, 1::step]
        else:
            raise ValueError("only triangles, as v, v/vt or v/vt/vn")
    except ValueError as err:
        raise ValueError(f"{path}: not an OBJ of triangles ({err})") from None
    return ObjMesh(vertices, faces, uv, uv_faces)


def _vertex_block(text: str) -> np.ndarray:
    """(V, 3) the `v` lines of an OBJ text; fast when they are one block, as humanvid writes them."""
    first = re.search(r"^v ", text, re.M)
    if first is None:
        return np.empty((0, 3))
    after = re.compile(r"\n(?!v )").search(text, first.start())
    end = len(text) if after is None else after.start()
    if text.find("\nv ", end) >= 0:  # more vertices further on: read them all
        lines = re.findall(r"^v (.*)$", text, re.M)
        return np.fromstring(" ".join(lines), dtype=np.float64, sep=" ").reshape(len(lines), -1)[:, :3]
    block = text[first.start():end]
    rows = block.count("\n") + 1
    return np.fromstring(block.replace("v ", " "), dtype=np.float64, sep=" ").reshape(rows, -1)[:, :3]


def obj_trimesh(path: str | Path):
    """An OBJ of triangles as a trimesh mesh with its own vertex list (trimesh's loader would split the
    vertices of a textured OBJ along the texture's seams)."""
    import trimesh

    obj = read_obj(path)
    return trimesh.Trimesh(obj.vertices, obj.faces, process=False)


def table_text(prefix: str, rows: np.ndarray, decimals: tuple[int, ...], separators: str | None = None) -> str:
    """One line per row of the (R, C) table: the prefix, then each number in fixed point with its column's
    number of decimals (0: an integer), as "%.{d}f" writes them, each after its column's separator (one
    character of `separators`; default: spaces).

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
    separators = separators or " " * len(decimals)
    widths = [2 + int(whole.max()) + (places + 1 if places else 0) for places, _, _, whole in numbers]
    lines = np.zeros((len(rows), len(prefix) + sum(widths) + 1), np.uint8)
    shown = np.ones(lines.shape, bool)
    lines[:, :len(prefix)] = np.frombuffer(prefix.encode("ascii"), np.uint8)
    lines[:, -1] = ord("\n")
    end = len(prefix)
    for (places, negative, magnitude, whole_digits), width, separator in zip(numbers, widths, separators):
        start, end = end, end + width
        lines[:, start] = ord(separator)
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


def write_obj(path: str | Path, vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None,
              topology: TexturedTopology | None = None) -> None:
    atomic.write_text(path, obj_text(np.asarray(vertices, np.float64), faces, colors, topology))

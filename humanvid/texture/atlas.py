"""The canonical mesh's UV atlas (xatlas) and the surface point under each texel.

``unwrap`` charts and packs the mesh into one square page. xatlas's chart growing costs more than
linearly in the face count (79,584 faces of a canonical person: 32 s in one piece, ~4.5 s as 32
pieces), so the mesh is first cut into ``PIECES`` compact pieces by median splits of the face
centres along the longest axis, and xatlas charts the pieces together into one page.

``texel_surface`` rasterises the atlas: for every texel whose centre falls inside a chart triangle,
the face and the barycentric weights of that centre.

UVs follow the OBJ convention: u right, v up, (0, 0) the bottom-left corner of the image. Texel
(row r, column c) of an S × S image has its centre at u = (c + 0.5) / S, v = 1 − (r + 0.5) / S.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from humanvid.constants import TEXTURE_SIZE
from humanvid.render.raster import covered_pixels

PIECES = 32
PADDING = 3  # texels between charts: room for bilinear filtering and a few mipmap levels


@dataclass
class UvAtlas:
    """A mesh's texture coordinates: faces of the mesh map face by face onto faces of `uv`."""

    uv: np.ndarray  # (U, 2) float64 in [0, 1], OBJ convention
    uv_faces: np.ndarray  # (F, 3) int64 rows of `uv`, parallel to the mesh's faces
    uv_vertex: np.ndarray  # (U,) int64 the mesh vertex of each uv (a vertex on a seam has several)
    size: int = TEXTURE_SIZE  # side of the texture image [texels]


@dataclass
class TexelSurface:
    """The surface points under the texels a chart covers."""

    rows: np.ndarray  # (N,) int64 texel row
    cols: np.ndarray  # (N,) int64 texel column
    face: np.ndarray  # (N,) int64 mesh face
    barycentric: np.ndarray  # (N, 3) float64 weights of the face's three vertices

    def points(self, vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
        """(N, 3) the texels' points on the mesh with these (V, 3) vertices and (F, 3) faces."""
        return np.einsum("nk,nkc->nc", self.barycentric, np.asarray(vertices)[np.asarray(faces)[self.face]])

    def interpolation(self, faces: np.ndarray, vertex_count: int) -> scipy.sparse.csr_matrix:
        """(N, V) sparse matrix taking per-vertex values to the texels: `points` as one product."""
        corners = np.asarray(faces)[self.face]
        rows = np.repeat(np.arange(len(self.face)), 3)
        return scipy.sparse.csr_matrix((self.barycentric.ravel(), (rows, corners.ravel())),
                                       shape=(len(self.face), vertex_count))


def unwrap(vertices: np.ndarray, faces: np.ndarray, size: int = TEXTURE_SIZE) -> UvAtlas:
    """A one-page UV atlas of the (V, 3) / (F, 3) triangle mesh."""
    import xatlas

    vertices, faces = np.asarray(vertices, np.float32), np.asarray(faces, np.int64)
    pieces = _pieces(vertices[faces].mean(axis=1), PIECES)
    atlas = xatlas.Atlas()
    used = []
    for piece in pieces:  # each piece with its own vertices only: xatlas walks every vertex it is given
        own, local = np.unique(faces[piece], return_inverse=True)
        used.append(own)
        atlas.add_mesh(vertices[own], local.reshape(-1, 3).astype(np.uint32))
    charts = xatlas.ChartOptions()
    charts.max_iterations = 1
    pack = xatlas.PackOptions()
    pack.resolution, pack.padding, pack.bilinear = size, PADDING, True
    atlas.generate(charts, pack)  # one page of about `size` texels, its uv scaled to [0, 1]
    if atlas.atlas_count != 1:  # pragma: no cover - xatlas sizes the page to hold every chart
        raise RuntimeError(f"xatlas packed the charts into {atlas.atlas_count} pages")
    uv, uv_faces, uv_vertex, offset = [], np.empty_like(faces), [], 0
    for index, piece in enumerate(pieces):
        mapping, indices, coords = atlas[index]
        uv.append(coords)
        uv_vertex.append(used[index][mapping.astype(np.int64)])
        uv_faces[piece] = indices.astype(np.int64) + offset
        offset += len(mapping)
    # xatlas's v runs down the page like image rows; OBJ's runs up.
    uv = np.concatenate(uv).astype(np.float64)
    uv[:, 1] = 1.0 - uv[:, 1]
    return UvAtlas(uv, uv_faces, np.concatenate(uv_vertex).astype(np.int64), size)


def texel_surface(atlas: UvAtlas) -> TexelSurface:
    """The face and barycentrics under every texel centre inside a chart triangle (a centre on a shared
    edge goes to one of the faces)."""
    size = atlas.size
    corners = atlas.uv[atlas.uv_faces]  # (F, 3, 2)
    texels = np.stack([corners[..., 0] * size - 0.5, (1.0 - corners[..., 1]) * size - 0.5], axis=-1)
    rows, cols, face, weights = covered_pixels(texels, size, size)
    if not len(rows):
        return TexelSurface(*(np.empty(0, np.int64),) * 3, np.empty((0, 3)))
    _, first = np.unique(rows * size + cols, return_index=True)
    weights = weights[first].clip(0.0, 1.0)
    return TexelSurface(rows[first], cols[first], face[first], weights / weights.sum(axis=1, keepdims=True))


def _pieces(centres: np.ndarray, count: int) -> list[np.ndarray]:
    """Face indices cut into `count` (a power of two) compact pieces by median splits along the longest axis."""
    pieces = [np.arange(len(centres))]
    while len(pieces) < count:
        split = []
        for piece in pieces:
            points = centres[piece]
            axis = int(np.argmax(np.ptp(points, axis=0))) if len(piece) else 0
            order = piece[np.argsort(points[:, axis], kind="stable")]
            split += [order[: len(order) // 2], order[len(order) // 2:]]
        pieces = split
    return [piece for piece in pieces if len(piece)]


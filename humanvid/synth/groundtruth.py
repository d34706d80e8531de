"""The ground truth of a synthetic sample: one watertight clothed surface.

Body, garments and hair arrive as closed triangle meshes
(:class:`humanvid.synth.solids.Solid`), each with a layer (outer layers cover
inner ones) and a material. Their union is voxelised exactly on a grid of
``voxel`` metres (4 mm by default), smoothed and meshed with PyMCubes
(:mod:`humanvid.synth.voxels`); only the largest connected surface is kept, so
the result is a single closed surface. Each vertex gets the material of the
outermost solid at that spot, a texture coordinate (the point carried back to
the body's rest pose, so patterns stick to the cloth across a clip) and an albedo.

Everything is in Anny's world frame (metres, z up); :func:`to_camera_frame`
converts to the exported OpenGL camera frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanvid.geometry.body_distance import vertex_normals
from humanvid.synth.solids import Material, Solid
from humanvid.synth.textures import Pattern, apply_pattern
from humanvid.synth.voxels import sparse_marching_cubes, voxelize


@dataclass
class ClothedMesh:
    """One watertight clothed surface in Anny's world frame.

    vertices: (N, 3) float64 [m]; faces: (M, 3) int64; normals: (N, 3) outward unit;
    labels: (N,) int material index; colors: (N, 3) float32 albedo in [0, 1];
    texcoords: (N, 3) float32 rest-pose coordinates for 3D textures;
    materials: the material list ``labels`` indexes.
    """

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray
    labels: np.ndarray
    colors: np.ndarray
    texcoords: np.ndarray
    materials: list[Material]

    def trimesh(self):
        import trimesh

        colors = np.concatenate([self.colors, np.ones((len(self.colors), 1))], axis=1)
        return trimesh.Trimesh(self.vertices, self.faces, vertex_colors=(colors * 255).astype(np.uint8), process=False)


@dataclass
class VoxelGrid:
    """The exact voxelisation behind a clothed mesh: voxel centres at ``origin + voxel * (i, j, k)``.

    inside: (X, Y, Z) bool union of the solids. The surface is the ``level``
    set of ``inside`` smoothed by ``passes`` binomial [1, 2, 1]/4 filters per axis.
    """

    origin: np.ndarray
    voxel: float
    inside: np.ndarray
    level: float = 0.4
    passes: int = 2

    def sample(self, points: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """(N, 3) world points → (N,) smoothed occupancy, trilinear (the meshed field; 0 far outside)."""
        points = np.asarray(points, dtype=np.float64)
        kernel = np.array([1.0])
        for _ in range(self.passes):
            kernel = np.convolve(kernel, [0.25, 0.5, 0.25])
        reach = self.passes
        size = 2 * reach + 2  # window of `inside` voxels feeding one trilinear cell
        grid = np.pad(self.inside, size)
        values = np.empty(len(points))
        for start in range(0, len(points), chunk):
            coords = (points[start:start + chunk] - self.origin) / self.voxel
            base = np.floor(coords).astype(np.int64)
            frac = coords - base
            base = np.clip(base, -size, np.array(self.inside.shape) + size - 1) - reach + size
            # per-axis weights over the window: (1 - f) * kernel at offset e, f * kernel at offset e - 1
            window = np.zeros((len(coords), 3, size))
            window[:, :, :-1] += (1.0 - frac)[:, :, None] * kernel
            window[:, :, 1:] += frac[:, :, None] * kernel
            offsets = np.arange(size)
            ix = np.clip(base[:, 0, None] + offsets, 0, grid.shape[0] - 1)
            iy = np.clip(base[:, 1, None] + offsets, 0, grid.shape[1] - 1)
            iz = np.clip(base[:, 2, None] + offsets, 0, grid.shape[2] - 1)
            block = grid[ix[:, :, None, None], iy[:, None, :, None], iz[:, None, None, :]]
            block = block.astype(np.float32).reshape(len(coords), size * size, size)
            along_z = np.matmul(block, window[:, 2, :, None].astype(np.float32)).reshape(len(coords), size, size)
            along_y = np.matmul(along_z, window[:, 1, :, None].astype(np.float32))[..., 0]
            values[start:start + chunk] = (along_y * window[:, 0]).sum(axis=1)
        return values

    def contains(self, points: np.ndarray) -> np.ndarray:
        """(N,) bool: inside the clothed surface."""
        return self.sample(points) > self.level

    def surface(self) -> tuple[np.ndarray, np.ndarray]:
        """The one closed surface of this grid: vertices (N, 3) world [m], faces (M, 3) int64."""
        vertices, faces = sparse_marching_cubes(self.inside, self.level, self.passes)
        vertices, faces = largest_component(vertices, faces)
        return self.origin + vertices * self.voxel, faces


def build_clothed_mesh(
    solids: list[Solid],
    materials: list[Material],
    body_vertices: np.ndarray,
    body_transforms: np.ndarray,
    voxel: float = 0.004,
    level: float = 0.4,
) -> tuple[ClothedMesh, VoxelGrid]:
    """Mesh the union of ``solids`` into one watertight clothed surface.

    body_vertices: (V, 3) posed body vertices; body_transforms: (V, 4, 4) their
    skinning transforms (rest → posed), used to carry surface points back to the
    rest pose for texture coordinates. ``level`` below 0.5 keeps thin parts
    (fingers) from shrinking under the smoothing.
    """
    from scipy.spatial import cKDTree

    origin, inside = voxelize(solids, voxel)
    grid = VoxelGrid(origin=origin, voxel=voxel, inside=inside, level=level)
    vertices, faces = grid.surface()
    normals = _smooth_normals(vertices, faces)

    # The body vertices under each surface point: texture coordinates (the point carried back
    # to the rest pose by its nearest body vertex) and garment edges (interpolated coverage).
    distance, nearest = cKDTree(body_vertices).query(vertices, k=4, workers=1)
    weights = 1.0 / np.maximum(distance, 1e-4)
    weights /= weights.sum(axis=1, keepdims=True)
    labels = surface_labels(solids, vertices, nearest, weights)
    used, closest = np.unique(nearest[:, 0], return_inverse=True)
    inverse = affine_inverse(body_transforms[used])[closest]
    texcoords = np.einsum("nij,nj->ni", inverse[:, :3, :3], vertices) + inverse[:, :3, 3]

    colors = vertex_albedo(materials, labels, texcoords)
    mesh = ClothedMesh(
        vertices=vertices,
        faces=faces,
        normals=normals,
        labels=labels.astype(np.int16),
        colors=colors.astype(np.float32),
        texcoords=texcoords.astype(np.float32),
        materials=list(materials),
    )
    return mesh, grid


def surface_labels(solids: list[Solid], points: np.ndarray, nearest: np.ndarray, weights: np.ndarray,
                   window: float = 0.004, reach: float = 0.03) -> np.ndarray:
    """(N,) material of the solid that makes the surface at each point (N, 3).

    The outermost layer among the candidates wins: shells whose cut covers the body
    under the point (their coverage interpolated from the point's body vertices
    ``nearest`` (N, K) with ``weights`` (N, K)), and other solids whose label points come
    within ``window`` of the nearest label point — so a thin garment beats the skin just
    under it, while bare skin next to a garment's edge stays skin.
    """
    from scipy.spatial import cKDTree

    candidate = np.zeros((len(solids), len(points)), dtype=bool)
    distances = np.full((len(solids), len(points)), np.inf)
    for index, solid in enumerate(solids):
        if solid.coverage is not None:
            candidate[index] = np.einsum("nk,nk->n", solid.coverage[nearest], weights) > 0.0
            continue
        labelled = solid.label_points
        lo, hi = labelled.min(axis=0) - reach, labelled.max(axis=0) + reach
        near = np.all((points >= lo) & (points <= hi), axis=1)
        distances[index, near] = cKDTree(labelled).query(points[near], distance_upper_bound=reach)[0]
    by_distance = np.isfinite(distances)
    candidate |= by_distance & (distances <= distances.min(axis=0) + window)
    layers = np.array([s.layer for s in solids], dtype=np.float64)
    materials = np.array([s.material for s in solids])
    score = np.where(candidate, layers[:, None] * 10.0 - np.where(by_distance, np.minimum(distances, 1.0), 0.0),
                     -np.inf)
    return materials[score.argmax(axis=0)]


def vertex_albedo(materials: list[Material], labels: np.ndarray, texcoords: np.ndarray) -> np.ndarray:
    """(N, 3) albedo: each material's pattern evaluated at the vertices' texture coordinates."""
    colors = np.zeros((len(labels), 3))
    for index, material in enumerate(materials):
        chosen = labels == index
        if np.any(chosen):
            base = np.broadcast_to(np.asarray(material.color, dtype=np.float64), (int(chosen.sum()), 3))
            colors[chosen] = apply_pattern(Pattern(**material.pattern), base, texcoords[chosen])
    return colors


def largest_face_component(faces: np.ndarray, vertex_count: int | None = None) -> np.ndarray:
    """(M,) bool: the faces of the vertex-connected part with the most faces."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    count = int(faces.max()) + 1 if vertex_count is None else vertex_count
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]]])
    graph = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(count, count))
    _, component = connected_components(graph, directed=False)
    main = np.bincount(component[faces[:, 0]]).argmax()
    return component[faces[:, 0]] == main


def largest_component(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the connected surface with the most faces; reindex vertices."""
    count = len(vertices)
    faces = faces[largest_face_component(faces, count)]
    used = np.unique(faces)
    remap = np.full(count, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return vertices[used], remap[faces]


def _smooth_normals(vertices: np.ndarray, faces: np.ndarray, iterations: int = 3) -> np.ndarray:
    """(N, 3) unit vertex normals averaged over their neighbours: hides the grid's sub-voxel terraces in shading."""
    from scipy.sparse import coo_matrix

    normals = vertex_normals(vertices, faces)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    adjacency = coo_matrix((np.ones(len(edges), dtype=np.float32), (edges[:, 0], edges[:, 1])),
                           shape=(len(vertices), len(vertices))).tocsr()
    adjacency = adjacency + adjacency.T  # each edge of a closed mesh appears once per direction: weights 2
    for _ in range(iterations):
        normals = normals + adjacency @ normals
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    return normals


def affine_inverse(transforms: np.ndarray) -> np.ndarray:
    """(N, 4, 4) inverses of affine transforms (a blend of rigid skinning transforms is affine)."""
    a = transforms[:, :3, :3]
    cofactor = np.stack([np.cross(a[:, 1], a[:, 2]), np.cross(a[:, 2], a[:, 0]), np.cross(a[:, 0], a[:, 1])], axis=1)
    determinant = np.einsum("ni,ni->n", a[:, 0], cofactor[:, 0])
    linear = np.transpose(cofactor, (0, 2, 1)) / determinant[:, None, None]
    inverse = np.zeros_like(transforms)
    inverse[:, :3, :3] = linear
    inverse[:, :3, 3] = -np.einsum("nij,nj->ni", linear, transforms[:, :3, 3])
    inverse[:, 3, 3] = 1.0
    return inverse


def to_camera_frame(points: np.ndarray, world_to_camera: np.ndarray) -> np.ndarray:
    """(N, 3) Anny-world points → the exported OpenGL camera frame (x right, y up, looking down −z).

    world_to_camera: (4, 4) rigid transform, as in ``humanvid.camera.Camera``.
    """
    world_to_camera = np.asarray(world_to_camera, dtype=np.float64)
    return np.asarray(points, dtype=np.float64) @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]


def body_outside_fraction(grid: VoxelGrid, body_vertices: np.ndarray, body_normals: np.ndarray,
                          tolerance: float = 0.002) -> float:
    """Fraction of body vertices more than ``tolerance`` outside the clothed surface.

    A vertex counts as outside when the point ``tolerance`` below it (along its
    normal) is outside the smoothed occupancy — a cheap proxy of the signed distance.
    """
    probe = body_vertices - tolerance * body_normals
    return float(np.mean(~grid.contains(probe)))

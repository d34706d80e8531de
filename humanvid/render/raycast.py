"""CPU ray casting of a triangle mesh through a pinhole camera (trimesh + embreex).

``cast`` shoots one ray per pixel through the pixels the mesh can cover and returns
the first hit per pixel (face, barycentrics, depth); ``hit_normals`` turns hits into
smooth normals facing the camera; ``normal_map`` is the geometry-only render: a mask
and camera-frame normals. Cameras are :class:`humanvid.camera.Camera` (OpenGL frame:
x right, y up, looking down −z); meshes are in the camera's world frame, in metres.

Reuse one ``trimesh.Trimesh`` for several views: its ray-tracing structure is built
on the first cast (~0.5–1 s for 300–500k faces) and cached on the mesh; pass
``vertex_normals=`` when building it if you have them, to skip computing them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from humanvid.camera import Camera


@dataclass
class RayHits:
    """The first surface hit per pixel."""

    face: np.ndarray  # (H, W) int64 face index, −1 where the ray misses
    barycentric: np.ndarray  # (H, W, 3) float64 weights of the face's vertices (0 on misses)
    depth: np.ndarray  # (H, W) float32 metres along −z of the camera, 0 on misses


def cast(mesh: trimesh.Trimesh, camera: Camera) -> RayHits:
    """First hits of the camera's pixel rays on ``mesh`` (world coordinates).

    Only pixels inside the projected bounding box of the mesh are traced.
    """
    height, width = camera.height, camera.width
    face = np.full((height, width), -1, dtype=np.int64)
    barycentric = np.zeros((height, width, 3))
    depth = np.zeros((height, width), dtype=np.float32)
    box = _pixel_box(mesh, camera)
    if box is None:
        return RayHits(face, barycentric, depth)
    r0, r1, c0, c1 = box
    rows, cols = np.mgrid[r0:r1, c0:c1]
    rows, cols = rows.ravel(), cols.ravel()
    directions_cam = camera.pixel_rays(rows, cols)
    directions = directions_cam @ camera.rotation  # camera → world
    origins = np.broadcast_to(camera.position, directions.shape)
    hit_face = mesh.ray.intersects_first(origins, directions / np.linalg.norm(directions, axis=1, keepdims=True))
    hit = hit_face >= 0
    vertices, faces = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    t, u, v = _ray_triangle(camera.position, directions[hit], vertices[faces[hit_face[hit]]])
    rows, cols, hit_face = rows[hit], cols[hit], hit_face[hit]
    face[rows, cols] = hit_face
    barycentric[rows, cols] = np.stack([1.0 - u - v, u, v], axis=1).clip(0.0, 1.0)
    depth[rows, cols] = t  # directions have z = −1 in the camera frame, so t is the depth
    return RayHits(face, barycentric, depth)


def normal_map(mesh: trimesh.Trimesh, camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Only the geometry of a render: mask (H, W) bool and normals (H, W, 3) float32 in the camera frame."""
    hits = cast(mesh, camera)
    mask = hits.face >= 0
    normals = np.zeros((camera.height, camera.width, 3), dtype=np.float32)
    normals[mask] = hit_normals(mesh, camera, hits, mask)[1]
    return mask, normals


def hit_normals(mesh: trimesh.Trimesh, camera: Camera, hits: RayHits, mask: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Smooth normals at the hits of the (H, W) ``mask``, turned towards the camera: world (P, 3) and camera frame
    (P, 3) unit vectors, P = mask.sum(), in row-major pixel order."""
    hit_faces = hits.face[mask]
    faces = np.asarray(mesh.faces)[hit_faces]
    normals_world = interpolate(np.asarray(mesh.vertex_normals), faces, hits.barycentric[mask])
    geometric = np.asarray(mesh.face_normals)[hit_faces]
    rays = np.asarray(mesh.vertices)[faces[:, 0]] - camera.position
    facing = np.where(np.einsum("ij,ij->i", geometric, rays) > 0, -1.0, 1.0)  # flip back faces
    normals_world *= facing[:, None]
    normals_cam = normals_world @ camera.rotation.T
    normals_cam /= np.maximum(np.linalg.norm(normals_cam, axis=1, keepdims=True), 1e-12)
    view = -camera.pixel_rays(*np.nonzero(mask))
    view /= np.linalg.norm(view, axis=1, keepdims=True)
    along = np.einsum("ij,ij->i", normals_cam, view)
    backwards = along < 0  # smooth normals can tilt past the silhouette: make them perpendicular to the ray
    normals_cam[backwards] -= along[backwards, None] * view[backwards]
    normals_cam /= np.maximum(np.linalg.norm(normals_cam, axis=1, keepdims=True), 1e-12)
    return normals_world, normals_cam


def interpolate(values: np.ndarray, faces: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(V, C) per-vertex values → (P, C) at points with barycentric ``weights`` (P, 3) in ``faces`` (P, 3)."""
    return np.einsum("pk,pkc->pc", weights, np.asarray(values)[faces])


def _pixel_box(mesh: trimesh.Trimesh, camera: Camera) -> tuple[int, int, int, int] | None:
    """Rows r0:r1, cols c0:c1 that can see the mesh, or None when it is out of view."""
    corners = trimesh.bounds.corners(mesh.bounds)
    pixels, depth = camera.project(corners)
    if np.all(depth <= 0):
        return None
    if np.any(depth <= 1e-6):  # the camera is inside the box: trace everything
        return 0, camera.height, 0, camera.width
    c0, r0 = np.floor(pixels.min(axis=0)).astype(int) - 1
    c1, r1 = np.ceil(pixels.max(axis=0)).astype(int) + 2
    r0, r1 = max(r0, 0), min(r1, camera.height)
    c0, c1 = max(c0, 0), min(c1, camera.width)
    if r0 >= r1 or c0 >= c1:
        return None
    return r0, r1, c0, c1


def _ray_triangle(origin: np.ndarray, directions: np.ndarray, triangles: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Möller–Trumbore: ray parameter t and barycentrics (u, v), each (N,), of rays from ``origin`` (3,) along
    ``directions`` (N, 3) on triangles (N, 3, 3); the hit point is origin + t · direction."""
    e1 = triangles[:, 1] - triangles[:, 0]
    e2 = triangles[:, 2] - triangles[:, 0]
    p = np.cross(directions, e2)
    det = np.einsum("ij,ij->i", e1, p)
    det = np.where(np.abs(det) < 1e-18, 1e-18, det)
    s = origin - triangles[:, 0]
    u = np.einsum("ij,ij->i", s, p) / det
    q = np.cross(s, e1)
    v = np.einsum("ij,ij->i", directions, q) / det
    t = np.einsum("ij,ij->i", e2, q) / det
    return t, u, v

"""The clothed ground truth: the meshed field, labels and frames, on solids with known answers."""

from __future__ import annotations

import numpy as np
import trimesh
from scipy.ndimage import map_coordinates

from humanvid.synth.groundtruth import VoxelGrid, build_clothed_mesh, to_camera_frame
from humanvid.synth.solids import Material, Solid
from humanvid.synth.voxels import smooth_occupancy, voxelize


def sphere(radius: float, centre=(0.0, 0.0, 0.0), material: int = 0, layer: int = 0) -> Solid:
    mesh = trimesh.creation.icosphere(subdivisions=4, radius=radius)
    return Solid(mesh.vertices + np.asarray(centre), mesh.faces.astype(np.int64), layer, material)


def test_grid_sample_is_the_meshed_field():
    _, inside = voxelize([sphere(0.05)], voxel=0.004)
    grid = VoxelGrid(origin=np.zeros(3), voxel=1.0, inside=inside)
    points = np.random.default_rng(1).uniform(2, np.array(inside.shape) - 3, size=(500, 3))
    reference = map_coordinates(smooth_occupancy(inside), points.T, order=1)
    assert np.allclose(grid.sample(points), reference, atol=1e-5)


def test_clothed_mesh_labels_outermost_layer():
    body = sphere(0.1, material=0, layer=0)
    cap = sphere(0.06, (0.0, 0.0, 0.08), material=1, layer=3)  # a "hat" sticking out of the top
    materials = [Material("skin", "skin", (0.8, 0.6, 0.5)), Material("hat", "garment", (0.1, 0.2, 0.9))]
    transforms = np.tile(np.eye(4), (len(body.vertices), 1, 1))
    mesh, grid = build_clothed_mesh([body, cap], materials, body.vertices, transforms)
    assert mesh.trimesh().is_watertight
    top = mesh.vertices[:, 2] > 0.12
    bottom = mesh.vertices[:, 2] < -0.05
    assert np.all(mesh.labels[top] == 1) and np.all(mesh.labels[bottom] == 0)
    assert np.allclose(mesh.colors[bottom], materials[0].color, atol=0.1)
    assert np.all(np.linalg.norm(mesh.normals[bottom] - mesh.vertices[bottom] / np.linalg.norm(
        mesh.vertices[bottom], axis=1, keepdims=True), axis=1) < 0.3)  # outward normals
    assert grid.contains(np.array([[0.0, 0.0, 0.0]]))[0] and not grid.contains(np.array([[0.0, 0.0, 0.3]]))[0]


def test_camera_frame_conversion():
    angle = np.radians(30)
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = [[np.cos(angle), -np.sin(angle), 0], [0, 0, 1], [-np.sin(angle), -np.cos(angle), 0]]
    world_to_camera[:3, 3] = [0.1, -0.9, -3.0]
    points = np.random.default_rng(2).normal(size=(10, 3))
    camera = to_camera_frame(points, world_to_camera)
    assert np.allclose(camera, points @ world_to_camera[:3, :3].T + world_to_camera[:3, 3])
    assert np.allclose(to_camera_frame(camera, np.linalg.inv(world_to_camera)), points)
    origin = to_camera_frame(np.zeros((1, 3)), world_to_camera)
    up = to_camera_frame(np.array([[0.0, 0.0, 1.0]]), world_to_camera) - origin
    assert np.allclose(up, [[0.0, 1.0, 0.0]])  # Anny's up is the camera's up for this level camera

"""The stored ground truth (a bit-packed voxel grid) gives back the generator's clothed surface exactly."""

from __future__ import annotations

import numpy as np
import pytest

from humanvid.synth.groundtruth import to_camera_frame
from humanvid.synth.groundtruth_io import read_grid, read_groundtruth, write_groundtruth
from humanvid.synth.person import clothed_mesh, make_person


def test_stored_grid_rebuilds_the_mesh_bit_for_bit(rig, space, tmp_path):
    person = make_person(rig, space, 12345)
    mesh, grid = clothed_mesh(person, 0)
    angle = 0.7
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = [[np.cos(angle), -np.sin(angle), 0], [0, 0, 1], [-np.sin(angle), -np.cos(angle), 0]]
    world_to_camera[:3, 3] = [0.1, -0.9, -3.0]
    path = tmp_path / "mesh.npz"
    write_groundtruth(path, grid, world_to_camera)

    vertices, faces = read_groundtruth(path)
    assert np.array_equal(faces, mesh.faces)
    assert np.array_equal(vertices, to_camera_frame(mesh.vertices, world_to_camera).astype(np.float32))
    stored, transform = read_grid(path)
    assert np.array_equal(stored.inside, grid.inside) and np.array_equal(transform, world_to_camera)
    assert path.stat().st_size < 0.1 * len(faces) * 12  # far smaller than the faces alone


def test_other_files_are_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, vertices=np.zeros((3, 3)), faces=np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="not a humanvid ground-truth file"):
        read_groundtruth(path)

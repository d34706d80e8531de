"""OBJ export round-trips through trimesh (what Blender-side tools read)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import trimesh

from humanvid.exchange.obj import TexturedTopology, mtl_text, obj_trimesh, read_obj, table_text, write_obj


def test_obj_round_trip(tmp_path):
    sphere = trimesh.creation.icosphere(subdivisions=2, radius=0.3)
    colors = np.tile([[0.2, 0.4, 0.6]], (len(sphere.vertices), 1))
    write_obj(tmp_path / "000007.obj", sphere.vertices, sphere.faces, colors)
    loaded = trimesh.load(tmp_path / "000007.obj", process=False)
    assert np.abs(loaded.vertices - sphere.vertices).max() < 1e-5
    assert np.array_equal(loaded.faces, sphere.faces)
    assert loaded.is_watertight
    assert np.allclose(loaded.visual.vertex_colors[:, :3] / 255.0, colors, atol=0.01)
    assert not list(tmp_path.glob(".*"))  # no temporaries left


def test_table_text_writes_numbers_as_printf_does():
    rng = np.random.default_rng(3)
    scale = rng.choice([1e-3, 1.0, 50.0, 2e4], (500, 1))
    values = np.round(rng.uniform(-1, 1, (500, 6)) * scale, 5) + 1e-9  # no ties at the last decimal
    values[np.abs(values) < 1e-4] = 0.5  # printf writes tiny negatives as "-0.0000"; the table writes "0.0000"
    values[0, :3] = [0.0, 7.0, -3.0]
    expected = "".join("v %.5f %.5f %.5f %.4f %.4f %.4f\n" % tuple(row) for row in values)
    assert table_text("v", values, (5, 5, 5, 4, 4, 4)) == expected
    integers = rng.integers(1, 10**7, (500, 3))
    integers[0] = [1, 10, 100]
    assert table_text("f", integers, (0, 0, 0)) == "".join("f %d %d %d\n" % tuple(row) for row in integers)
    assert table_text("f", np.zeros((0, 3), int), (0, 0, 0)) == ""


def test_a_textured_obj_keeps_one_vertex_per_point_and_reads_back(tmp_path):
    sphere = trimesh.creation.icosphere(subdivisions=2, radius=0.3)
    uv_faces = np.arange(3 * len(sphere.faces)).reshape(-1, 3)  # every corner its own coordinate (all seams)
    uv = np.random.default_rng(0).uniform(0, 1, (len(uv_faces) * 3, 2)).round(6)
    topology = TexturedTopology.of(sphere.faces, uv, uv_faces, "texture.mtl")
    write_obj(tmp_path / "000001.obj", sphere.vertices, sphere.faces, topology=topology)
    text = (tmp_path / "000001.obj").read_text()
    assert text.splitlines()[1] == "mtllib texture.mtl" and "\nusemtl person\nf " in text
    assert text.splitlines()[-1] == "f %d/%d %d/%d %d/%d" % tuple(np.stack([sphere.faces[-1], uv_faces[-1]], 1).ravel() + 1)
    back = read_obj(tmp_path / "000001.obj")
    assert np.abs(back.vertices - sphere.vertices).max() < 1e-5 and np.array_equal(back.faces, sphere.faces)
    np.testing.assert_allclose(back.uv, uv, atol=1e-6)
    assert np.array_equal(back.uv_faces, uv_faces)
    assert np.array_equal(read_obj(tmp_path / "000001.obj", vertices_only=True).vertices, back.vertices)
    assert obj_trimesh(tmp_path / "000001.obj").is_watertight  # seams do not split the surface
    (tmp_path / "texture.mtl").write_text(mtl_text("texture.png"))
    cv2.imwrite(str(tmp_path / "texture.png"), np.full((8, 8, 3), 200, np.uint8))
    textured = trimesh.load(tmp_path / "000001.obj")  # a tool that follows the MTL finds the image
    assert textured.visual.material.image.size == (8, 8)


def test_a_file_that_is_not_an_obj_of_triangles_is_refused(tmp_path):
    (tmp_path / "quads.obj").write_text("v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n")
    with pytest.raises(ValueError, match="not an OBJ of triangles"):
        read_obj(tmp_path / "quads.obj")

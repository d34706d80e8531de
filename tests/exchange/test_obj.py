"""OBJ export round-trips through trimesh (what Blender-side tools read)."""

from __future__ import annotations

import numpy as np
import trimesh

from humanvid.exchange.obj import table_text, write_obj


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

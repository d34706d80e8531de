"""OBJ export round-trips through trimesh (what Blender-side tools read)."""

from __future__ import annotations

import numpy as np
import trimesh

from humanvid.export.obj import write_obj


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

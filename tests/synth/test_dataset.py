"""A sample written end to end is a pure function of its seed."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from humanvid.synth.dataset import Generator, SampleSettings, generate_sample
from humanvid.synth.groundtruth_io import read_groundtruth
from humanvid.synth.occupancy import load_occupancy


@pytest.fixture(scope="module")
def generator():
    generator = Generator.load(crop=False)
    yield generator
    generator.close()


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sample_files_are_deterministic(generator, tmp_path):
    settings = SampleSettings(crop=False)
    first = generate_sample(generator, 4, tmp_path / "a", settings)
    second = generate_sample(generator, 4, tmp_path / "b", settings)
    for name in ("render.png", "render_depth.png", "render_labels.png", "occupancy.npz", "body.npz", "mesh.npz"):
        assert digest(tmp_path / "a" / name) == digest(tmp_path / "b" / name), name
    assert first["watertight"] and first["body_outside"] <= 0.01
    assert {k: v for k, v in first.items() if k != "timings"} == {k: v for k, v in second.items() if k != "timings"}
    summary = json.loads((tmp_path / "a" / "sample.json").read_text())
    assert summary["seed"] == 4
    points, inside = load_occupancy(tmp_path / "a" / "occupancy.npz")
    assert inside.mean() == 0.5 and np.all(points[:, 2] < 0)  # in front of the camera (looking down −z)
    with np.load(tmp_path / "a" / "body.npz") as body:
        keypoints = body["keypoints"]
        camera_from_world = body["world_to_camera"]
    assert keypoints.shape == (33, 3) and np.isfinite(keypoints[[0, 11, 12, 23, 24, 27, 28]]).all()
    assert np.allclose(camera_from_world[3], [0, 0, 0, 1])


def test_clip_files(generator, tmp_path):
    from humanvid.synth.dataset import generate_clip
    from humanvid.synth.occupancy import OccupancyRecipe

    settings = SampleSettings(crop=False, save_mesh=True, occupancy=OccupancyRecipe(count=1000))
    summary = generate_clip(generator, 9, tmp_path, frames=2, motion="turn", settings=settings)
    assert summary["frames"] == 2 and summary["watertight"] and summary["body_outside_max"] <= 0.01
    cameras = [json.loads((tmp_path / "buffers" / f"{i:06d}_camera.json").read_text()) for i in range(2)]
    assert cameras[0] == cameras[1]  # one static camera for the clip
    with np.load(tmp_path / "body.npz") as body:
        assert body["keypoints"].shape == (2, 33, 3) and body["vertices"].shape[0] == 2
    for i in range(2):
        vertices, faces = read_groundtruth(tmp_path / "meshes" / f"{i:06d}.npz")
        assert faces.max() < len(vertices) and np.all(vertices[:, 2] < 0)  # in front of the camera
        assert load_occupancy(tmp_path / "occupancy" / f"{i:06d}.npz")[1].mean() == 0.5


def test_turn_clip_records_its_yaw_range(generator, tmp_path):
    from humanvid.synth.dataset import generate_clip
    from humanvid.synth.facing import clip_yaw_range_deg
    from humanvid.synth.occupancy import OccupancyRecipe
    from humanvid.synth.splits import split_seeds

    settings = SampleSettings(crop=False, save_mesh=False, occupancy=OccupancyRecipe(count=1000))
    seed = split_seeds("turn-test", 1, clips=True)[0]
    summary = generate_clip(generator, seed, tmp_path, frames=3, motion="turntable", settings=settings)
    assert summary["motion"] == "turntable" and summary["watertight"]
    assert summary["yaw_range_deg"] == pytest.approx(240.0, abs=3.0)  # frames at 0°, 120°, 240°
    assert clip_yaw_range_deg(tmp_path / "body.npz") == pytest.approx(summary["yaw_range_deg"], abs=0.1)

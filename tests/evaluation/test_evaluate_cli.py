"""`humanvid evaluate` as a click command: folders matched by name, keypoints, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh
from click.testing import CliRunner

from humanvid.cli.evaluate import evaluate_command
from humanvid.evaluation.report import evaluate_paths


def _write_spheres(folder, radii, names):
    folder.mkdir()
    for radius, name in zip(radii, names):
        trimesh.creation.icosphere(subdivisions=4, radius=radius).export(folder / f"{name}.obj")


@pytest.fixture()
def sequences(tmp_path):
    names = ["000000", "000001", "000002"]
    _write_spheres(tmp_path / "gt", [0.5, 0.5, 0.5], names)
    _write_spheres(tmp_path / "pred", [0.51, 0.52, 0.51], names + ["extra"])  # "extra" has no match
    rng = np.random.default_rng(0)
    joints = rng.normal(size=(5, 17, 3))
    np.savez(tmp_path / "gt.npz", keypoints=joints)
    np.savez(tmp_path / "pred.npz", keypoints=joints + np.array([0.0, 0.0, 0.01]))
    return tmp_path


def test_evaluate_folders_with_keypoints(sequences):
    report = evaluate_paths(sequences / "pred", sequences / "gt", sequences / "pred.npz", sequences / "gt.npz",
                            samples=2000, normal_images=True)
    assert report.frames == ["000000", "000001", "000002"]
    assert np.allclose(report.chamfer_cm, [1.0, 2.0, 1.0], rtol=0.02)
    assert report.excess_change_cm == pytest.approx(1.0, rel=0.03)  # prediction breathes by 1 cm, truth is still
    assert report.mpjpe_mm == pytest.approx(10.0)
    assert report.pa_mpjpe_mm == pytest.approx(0.0, abs=1e-6)
    assert report.accel_error_mm == pytest.approx(0.0, abs=1e-9)
    assert len(report.normal_image_error) == 3 and all(0 < e < 0.5 for e in report.normal_image_error)


def test_evaluate_command_prints_a_table_and_json(sequences):
    out = sequences / "metrics.json"
    result = CliRunner().invoke(evaluate_command, [str(sequences / "pred"), str(sequences / "gt"), "--samples", "1000",
                                                   "--per-frame", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Chamfer" in result.output and "excess frame-to-frame change" in result.output
    assert "normal image error" in result.output
    data = json.loads(out.read_text())
    assert data["summary"]["frames"] == 3 and data["summary"]["mpjpe_mm"] is None


def test_evaluate_single_files(sequences):
    result = CliRunner().invoke(evaluate_command, [str(sequences / "pred" / "000001.obj"),
                                                   str(sequences / "gt" / "000001.obj"), "--samples", "1000",
                                                   "--no-normal-images"])
    assert result.exit_code == 0, result.output
    assert "excess" not in result.output and "normal image" not in result.output


@pytest.mark.parametrize("args, message", [
    (["missing", "gt"], "no such file or folder"),
    (["pred", "gt/000000.obj"], "two mesh files or two folders"),
    (["pred", "gt", "--pred-keypoints", "pred.npz"], "give both"),
    (["pred", "gt", "--pred-keypoints", "pred.npz", "--gt-keypoints", "nothing.npz"], "no such keypoint file"),
    (["pred", "broken.obj"], "two mesh files or two folders"),
])
def test_bad_input_gives_one_line(sequences, args, message):
    (sequences / "broken.obj").write_text("this is not a mesh\n")
    result = CliRunner().invoke(evaluate_command, [str(sequences / a) if not a.startswith("--") else a for a in args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_unreadable_mesh_and_no_common_names(tmp_path):
    (tmp_path / "a.obj").write_text("garbage\n")
    (tmp_path / "b.obj").write_text("v 0 0 0\n")
    result = CliRunner().invoke(evaluate_command, [str(tmp_path / "a.obj"), str(tmp_path / "b.obj")])
    assert result.exit_code == 1 and ("no faces" in result.output or "not a readable mesh" in result.output)
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    trimesh.creation.box().export(tmp_path / "p" / "x.obj")
    trimesh.creation.box().export(tmp_path / "g" / "y.obj")
    result = CliRunner().invoke(evaluate_command, [str(tmp_path / "p"), str(tmp_path / "g")])
    assert result.exit_code == 1 and "no mesh names in common" in result.output


def test_synthetic_ground_truth_npz_is_read(tmp_path):
    """GT may be `humanvid synth` ground truth (meshes/NNNNNN.npz: a voxel grid, meshed on reading)."""
    from humanvid.synth.groundtruth import VoxelGrid
    from humanvid.synth.groundtruth_io import write_groundtruth

    voxel, radius = 0.01, 0.3
    axis = np.arange(-40, 41) * voxel
    inside = np.linalg.norm(np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1), axis=-1) < radius
    world_to_camera = np.eye(4)
    world_to_camera[:3, 3] = [0.0, 0.0, -2.0]
    (tmp_path / "gt").mkdir()
    write_groundtruth(tmp_path / "gt" / "000000.npz", VoxelGrid(np.full(3, axis[0]), voxel, inside), world_to_camera)
    (tmp_path / "pred").mkdir()
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=radius)
    sphere.apply_translation([0.0, 0.0, -2.0])
    sphere.export(tmp_path / "pred" / "000000.obj")
    report = evaluate_paths(tmp_path / "pred", tmp_path / "gt", samples=2000)
    assert report.frames == ["000000"] and report.chamfer_cm[0] < 0.6  # within about a voxel

    np.savez(tmp_path / "gt" / "000001.npz", vertices=np.zeros((3, 3)))
    sphere.export(tmp_path / "pred" / "000001.obj")
    result = CliRunner().invoke(evaluate_command, [str(tmp_path / "pred"), str(tmp_path / "gt")])
    assert result.exit_code == 1 and "not a humanvid ground-truth file" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_depth_scale_alignment_removes_a_size_and_distance_error(tmp_path):
    for folder in ("pred", "gt"):
        (tmp_path / folder).mkdir()
    truth = trimesh.creation.icosphere(subdivisions=4, radius=0.3)
    truth.apply_translation([0.1, 0.0, -2.5])
    truth.export(tmp_path / "gt" / "000000.obj")
    too_big = truth.copy()
    too_big.apply_scale(1.2)  # 20 % too large and too far: projects exactly like the truth
    too_big.export(tmp_path / "pred" / "000000.obj")
    raw = evaluate_paths(tmp_path / "pred", tmp_path / "gt", samples=3000, normal_images=False)
    aligned = evaluate_paths(tmp_path / "pred", tmp_path / "gt", samples=3000, align="depth-scale")
    assert raw.chamfer_cm[0] > 20 and aligned.chamfer_cm[0] < 0.5

"""`humanvid reconstruct` end to end with the shipped network: clothed meshes per frame, resume, bad checkpoints.

Runs the real pipeline (MediaPipe, Anny fitting, the shipped checkpoint, marching
cubes) on the bundled example clip, whose exact ground truth ships beside it.
"""

from __future__ import annotations

import importlib.util
import json

import cv2
import numpy as np
import pytest
import trimesh

from humanvid.evaluation.silhouette import mask_iou
from humanvid.exchange.avatar import read_avatar
from humanvid.exchange.obj import obj_trimesh
from humanvid.exchange.run_folder import RunFolder
from humanvid.render.raycast import cast
from humanvid.stages.export import gltf_avatar
from helpers import REPO, real_media, run_cli, validation_report

CLIP = REPO / "examples" / "clip.mp4"
ARGS = ["--max-frames", "5", "--every", "3", "--start", "6"]
FRAMES = [6, 9, 12, 15, 18]


@pytest.fixture(scope="module")
def meshed(tmp_path_factory):
    root = tmp_path_factory.mktemp("mesh")
    result = run_cli("reconstruct", CLIP, "-o", root, *ARGS, timeout=900)
    assert result.returncode == 0, result.stderr
    return root / "clip", result


def groundtruth(frame: int) -> trimesh.Trimesh:
    spec = importlib.util.spec_from_file_location("make_clip", REPO / "examples" / "make_clip.py")
    make_clip = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_clip)
    with np.load(REPO / "examples" / "clip_groundtruth.npz") as arrays:
        return trimesh.Trimesh(*make_clip.groundtruth_mesh(arrays, frame), process=False)


def similar_to(mesh: trimesh.Trimesh, truth: trimesh.Trimesh) -> trimesh.Trimesh:
    """`mesh` moved onto the truth's centroid and scaled to its RMS radius: monocular size and depth are
    ambiguous together (a body 10 % larger and farther projects the same), the shape is what is tested."""
    def centre_and_radius(surface):
        points = trimesh.sample.sample_surface(surface, 20_000, seed=0)[0]
        centre = points.mean(axis=0)
        return centre, np.sqrt(((points - centre) ** 2).sum(axis=1).mean())

    (source, r_source), (target, r_target) = centre_and_radius(mesh), centre_and_radius(truth)
    return trimesh.Trimesh((mesh.vertices - source) * (r_target / r_source) + target, mesh.faces, process=False)


def test_every_frame_gets_a_watertight_mesh_in_the_camera_frame(meshed):
    out_dir, _ = meshed
    run = json.loads((out_dir / "run.json").read_text())
    stage = run["stages"]["mesh"]
    assert stage["status"] == "complete" and stage["resolution"] == 256 and stage["temporal_window"] == 2
    assert stage["depth_margin"] == 0.0  # no depth band by default
    assert stage["body_prior"] == 1.0  # the fitted body raises the occupancy inside it (recorded)
    assert sorted(p.name for p in (out_dir / "meshes").glob("*.obj")) == [f"{f:06d}.obj" for f in FRAMES]
    for entry in run["frames"]:
        assert entry["mesh"] == "ok" and entry["watertight"]
        mesh = obj_trimesh(out_dir / "meshes" / f"{entry['frame']:06d}.obj")
        assert mesh.is_watertight and mesh.volume > 0  # closed, faces pointing outwards
        merged = trimesh.Trimesh(mesh.vertices, mesh.faces)  # welded by position, as some tools read it
        assert merged.is_watertight and len(merged.vertices) == len(mesh.vertices)  # no two vertices coincide
        body = obj_trimesh(out_dir / "body" / f"{entry['frame']:06d}.obj")
        height = np.ptp(mesh.vertices[:, 1])
        assert 0.85 * np.ptp(body.vertices[:, 1]) < height < 1.25 * np.ptp(body.vertices[:, 1])
        assert mesh.vertices[:, 2].max() < 0  # in front of the camera
    assert run["quality"]["watertight_fraction"] == 1.0
    assert run["quality"]["mesh_mask_iou_mean"] > 0.85  # the mesh covers the person the mask shows, no more


def test_meshes_are_closer_to_the_clothed_ground_truth_than_the_fitted_body(meshed):
    from humanvid.evaluation.metrics import surface_metrics

    out_dir, _ = meshed
    for frame in (FRAMES[0], FRAMES[-1]):
        truth = groundtruth(frame)
        mesh = obj_trimesh(out_dir / "meshes" / f"{frame:06d}.obj")
        body = obj_trimesh(out_dir / "body" / f"{frame:06d}.obj")
        clothed = surface_metrics(similar_to(mesh, truth), truth, count=5000)
        naked = surface_metrics(similar_to(body, truth), truth, count=5000)
        # The person wears a long coat: the network must add it to what the body explains.
        assert clothed.chamfer_cm < 0.85 * naked.chamfer_cm and clothed.chamfer_cm < 9.0, (clothed, naked)
        assert clothed.normal_consistency > 0.6, clothed


def test_rerun_resumes_and_other_mesh_settings_remake_the_meshes(meshed, tmp_path):
    out_dir, _ = meshed
    before = {p.name: p.stat().st_mtime_ns for p in (out_dir / "meshes").iterdir()}
    again = run_cli("reconstruct", CLIP, "-o", out_dir.parent, *ARGS)
    assert again.returncode == 0 and "already done" in again.stdout
    assert before == {p.name: p.stat().st_mtime_ns for p in (out_dir / "meshes").iterdir()}

    unfused = run_cli("reconstruct", CLIP, "-o", out_dir.parent, *ARGS, "--temporal-window", "0",
                      "--resolution", "128", "--depth-margin", "0.07")
    assert unfused.returncode == 0, unfused.stderr
    run = json.loads((out_dir / "run.json").read_text())
    assert run["stages"]["mesh"]["temporal_window"] == 0 and run["stages"]["mesh"]["resolution"] == 128
    assert run["stages"]["mesh"]["depth_margin"] == 0.07
    assert run["stages"]["fit"]["status"] == "complete"  # the bodies were reused, not fitted again
    coarse = obj_trimesh(out_dir / "meshes" / f"{FRAMES[0]:06d}.obj")
    assert coarse.is_watertight and len(coarse.faces) > 2000

    # Each frame's own mesh: no shared topology, so no texture, glb or viewer; the earlier ones are gone.
    assert (out_dir / "avatar.glb").exists()
    own = run_cli("reconstruct", CLIP, "-o", out_dir.parent, *ARGS, "--topology", "per-frame", "--resolution", "128")
    assert own.returncode == 0, own.stderr
    run = json.loads((out_dir / "run.json").read_text())
    assert run["settings"]["exports"] == ["preview"] and run["stages"]["export"]["files"] == ["preview.mp4"]
    assert not (out_dir / "avatar.glb").exists() and not (out_dir / "viewer.html").exists()
    assert (out_dir / "preview.mp4").exists()


def test_the_shipped_body_sdf_network_by_name(meshed, tmp_path):
    import shutil

    from humanvid.evaluation.metrics import surface_metrics

    out_dir, _ = meshed
    shutil.copytree(out_dir, tmp_path / "clip", ignore=shutil.ignore_patterns("meshes"))
    result = run_cli("reconstruct", CLIP, "-o", tmp_path, *ARGS, "--checkpoint", "occupancy_v1_sdf.pt",
                     "--temporal-window", "0", "--resolution", "128")
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "clip" / "run.json").read_text())
    assert run["stages"]["mesh"]["checkpoint"].endswith("checkpoints/occupancy_v1_sdf.pt")
    assert run["stages"]["fit"]["status"] == "complete" and run["quality"]["watertight_fraction"] == 1.0
    assert run["quality"]["mesh_mask_iou_mean"] > 0.8
    truth = groundtruth(FRAMES[0])
    mesh = obj_trimesh(tmp_path / "clip" / "meshes" / f"{FRAMES[0]:06d}.obj")
    body = obj_trimesh(tmp_path / "clip" / "body" / f"{FRAMES[0]:06d}.obj")
    clothed = surface_metrics(similar_to(mesh, truth), truth, count=5000)
    naked = surface_metrics(similar_to(body, truth), truth, count=5000)
    assert clothed.chamfer_cm < 0.85 * naked.chamfer_cm, (clothed, naked)


@pytest.mark.parametrize("content, fragment", [
    (None, "not found"),
    (b"this is not a checkpoint", "unreadable or not a humanvid checkpoint"),
])
def test_missing_or_corrupt_checkpoint_is_one_clear_error(tmp_path, content, fragment):
    checkpoint = tmp_path / "weights.pt"
    if content is not None:
        checkpoint.write_bytes(content)
    result = run_cli("reconstruct", CLIP, "-o", tmp_path / "out", "--checkpoint", checkpoint)
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_depth_margin_option_follows_the_constants():
    from humanvid.cli.reconstruct import reconstruct
    from humanvid.constants import BOX_MARGIN, PHOTO_DEPTH_MARGIN, VIDEO_DEPTH_MARGIN
    from humanvid.settings import Settings

    option = next(param for param in reconstruct.params if param.name == "depth_margin")
    assert option.default is None and Settings().depth_margin is None  # chosen per input
    assert (option.type.min, option.type.max) == (0.0, BOX_MARGIN)  # beyond the query box it would change nothing
    assert VIDEO_DEPTH_MARGIN == 0.0 < PHOTO_DEPTH_MARGIN


def test_the_depth_band_is_on_for_a_single_frame_and_off_for_video_unless_asked():
    from humanvid.constants import PHOTO_DEPTH_MARGIN
    from humanvid.settings import Settings

    assert Settings().depth_margin_for(1) == PHOTO_DEPTH_MARGIN
    assert Settings().depth_margin_for(2) == Settings().depth_margin_for(300) == 0.0
    assert Settings(depth_margin=0.0).depth_margin_for(1) == 0.0
    assert Settings(depth_margin=0.05).depth_margin_for(300) == 0.05


def test_a_photo_is_meshed_within_the_depth_band_by_default(tmp_path):
    photo = real_media("lunge_6016x4016.jpg")
    result = run_cli("reconstruct", photo, "-o", tmp_path, "-q", "--resolution", "128", timeout=600)
    assert result.returncode == 0, result.stderr
    out_dir = tmp_path / photo.stem
    run = json.loads((out_dir / "run.json").read_text())
    assert run["stages"]["mesh"]["depth_margin"] == 0.07
    banded = obj_trimesh(out_dir / "meshes" / "000000.obj")

    unbounded = run_cli("reconstruct", photo, "-o", tmp_path, "-q", "--resolution", "128", "--depth-margin", "0")
    assert unbounded.returncode == 0, unbounded.stderr
    run = json.loads((out_dir / "run.json").read_text())
    assert run["stages"]["mesh"]["depth_margin"] == 0.0 and run["stages"]["fit"]["status"] == "complete"
    free = obj_trimesh(out_dir / "meshes" / "000000.obj")
    assert banded.is_watertight and free.is_watertight
    # The band takes depth off (the network errs thick), not the silhouette.
    assert banded.volume < 0.97 * free.volume
    assert np.ptp(banded.vertices[:, 1]) == pytest.approx(np.ptp(free.vertices[:, 1]), rel=0.02)


def test_a_video_is_one_clothed_person_with_one_topology(tmp_path, chromium):
    result = run_cli("reconstruct", CLIP, "-o", tmp_path, "--max-frames", "4", "--every", "6", "--topology", "canonical",
                     "--resolution", "128", timeout=900)
    assert result.returncode == 0, result.stderr
    out_dir = tmp_path / "clip"
    run = json.loads((out_dir / "run.json").read_text())
    stage = run["stages"]["mesh"]
    assert stage["topology"] == "canonical" and stage["keyframes"] == [0, 6, 12, 18]
    canonical = obj_trimesh(out_dir / "avatar" / "canonical.obj")
    assert canonical.is_watertight
    meshes = [obj_trimesh(out_dir / "meshes" / f"{frame:06d}.obj") for frame in (0, 6, 12, 18)]
    for mesh in meshes:  # the same vertices and faces in every frame, in that frame's pose
        assert np.array_equal(mesh.faces, canonical.faces) and mesh.is_watertight
    assert not np.allclose(meshes[0].vertices, meshes[-1].vertices)
    with np.load(out_dir / "avatar" / "skin.npz") as skin:
        np.testing.assert_allclose(skin["bone_weights"].sum(axis=1), 1.0, atol=1e-5)
        assert skin["bone_indices"].shape == (len(canonical.vertices), 8)
        assert skin["bone_transforms"].shape == (4, len(skin["joint_names"]), 4, 4)
        assert list(skin["frames"]) == [0, 6, 12, 18]
    assert run["quality"]["watertight_fraction"] == 1.0 and run["quality"]["mesh_mask_iou_mean"] > 0.8
    # What people open: one texture for every mesh, the rigged animated glb, the viewer, the preview.
    assert (out_dir / "meshes" / "000006.obj").read_text().splitlines()[1] == "mtllib texture.mtl"
    assert "map_Kd texture.png" in (out_dir / "meshes" / "texture.mtl").read_text()
    assert (out_dir / "meshes" / "texture.png").samefile(out_dir / "avatar" / "texture.png")
    textured = trimesh.load(out_dir / "meshes" / "000006.obj")  # trimesh follows the MTL to the texture
    assert textured.visual.uv is not None and textured.visual.material.image.size == (1024, 1024)
    export = run["stages"]["export"]
    assert export["status"] == "complete" and export["texture"]["views"] == 4
    assert export["texture"]["seen"] > 0.3 and export["texture"]["filled"] < 0.05  # the rest: seen through the body
    assert set(export["files"]) == {"avatar/texture.png", "meshes/texture.png", "avatar.glb", "viewer.html",
                                    "preview.mp4"}
    report = validation_report(out_dir / "avatar.glb")
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"]
    glb = trimesh.load(out_dir / "avatar.glb")
    assert sum(len(g.faces) for g in glb.geometry.values()) == len(canonical.faces)
    assert report["info"]["animationCount"] == 1 and report["info"]["totalVertexCount"] >= len(canonical.vertices)
    capture = cv2.VideoCapture(str(out_dir / "preview.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    # The viewer, opened from disk in Chromium, draws the glb's person where the camera sees it.
    camera = RunFolder(out_dir).read_camera()
    avatar = gltf_avatar(read_avatar(RunFolder(out_dir)), None, [0, 1, 2, 3], np.arange(4) / 25.0, camera)
    for key in (1, 3):
        ready, png, _ = chromium.open(f"{(out_dir / 'viewer.html').as_uri()}#frame={key}&silhouette=1", camera.width,
                                      camera.height, timeout=120)
        assert ready == "1", ready
        shot = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE) > 127
        skinned = np.einsum("vk,vkab,vb->va", avatar.joint_weights, avatar.bone_transforms[key][avatar.joint_indices],
                            np.c_[avatar.vertices, np.ones(len(avatar.vertices))])[:, :3]
        expected = cast(trimesh.Trimesh(skinned, avatar.faces, process=False), camera).face >= 0
        assert expected.sum() > 5000 and mask_iou(shot, expected) >= 0.9
    # A rerun resumes from the avatar written: nothing changes.
    before = (out_dir / "meshes" / "000006.obj").read_bytes()
    again = run_cli("reconstruct", CLIP, "-o", tmp_path, "--max-frames", "4", "--every", "6", "--topology", "canonical",
                    "--resolution", "128")
    assert again.returncode == 0 and (out_dir / "meshes" / "000006.obj").read_bytes() == before

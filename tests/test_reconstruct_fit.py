"""`humanvid reconstruct --until fit`: bodies per frame, quality in run.json, preview, resume."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from humanvid.exchange.obj import obj_trimesh

from helpers import REPO, real_media, run_cli


def test_fit_writes_bodies_quality_and_preview(tmp_path):
    result = run_cli("reconstruct", real_media("tennis.mp4"), "-o", tmp_path, "--start", "40", "--max-frames", "6",
                     "--every", "2", "--until", "fit", "--export", "preview")
    assert result.returncode == 0, result.stderr
    assert "Warp" not in result.stdout  # library banners stay hidden
    out_dir = tmp_path / "tennis"
    run = json.loads((out_dir / "run.json").read_text())
    assert run["stages"]["fit"]["status"] == "complete"
    assert run["stages"]["fit"]["pose_model"] == "heavy" and "heavy pose model" not in result.stdout  # installed by setup
    frames = [f["frame"] for f in run["frames"]]
    assert frames == [40, 42, 44, 46, 48, 50]
    with np.load(out_dir / "body" / "params.npz") as params:
        assert str(params["model"]) == "anny" and params["pose"].shape[0] == 6 and params["shape"].shape[0] == 1
    for frame in frames:
        body = obj_trimesh(out_dir / "body" / f"{frame:06d}.obj")
        assert body.is_watertight or len(body.faces) > 20000
        height = body.vertices[:, 1].max() - body.vertices[:, 1].min()
        assert 1.4 < height < 2.1  # an upright adult, y up, metres
        assert body.vertices[:, 2].max() < 0  # in front of the camera (looking down −z)
    quality = run["quality"]
    assert quality["reprojection_px_mean"] < 15 and quality["mask_iou_mean"] > 0.6
    assert all(0.4 < f["mask_iou"] <= 1 for f in run["frames"])
    capture = cv2.VideoCapture(str(out_dir / "preview.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 6

    again = run_cli("reconstruct", real_media("tennis.mp4"), "-o", tmp_path, "--start", "40", "--max-frames", "6",
                    "--every", "2", "--until", "fit")
    assert again.returncode == 0 and "already done" in again.stdout
    guessed = run["stages"]["fit"]["body_height_m"]
    assert 1.5 < guessed < 2.0 and run["stages"]["fit"]["height_given"] is False

    # The player's height, if known, sizes the body; other bodies are not overwritten silently.
    taller = ("reconstruct", real_media("tennis.mp4"), "-o", tmp_path, "--start", "40", "--max-frames", "6",
              "--every", "2", "--until", "fit", "--height", f"{guessed + 0.2:.3f}")
    refused = run_cli(*taller)
    assert refused.returncode != 0 and "--height" in refused.stderr and "Traceback" not in refused.stderr
    assert json.loads((out_dir / "run.json").read_text())["stages"]["fit"]["body_height_m"] == guessed
    told = run_cli(*taller, "--overwrite")
    assert told.returncode == 0, told.stderr
    fit = json.loads((out_dir / "run.json").read_text())["stages"]["fit"]
    assert fit["height_given"] is True and fit["body_height_m"] == pytest.approx(guessed + 0.2, abs=0.01)


def test_an_impossible_height_is_a_usage_error(tmp_path):
    result = run_cli("reconstruct", real_media("soccer_5frames.mp4"), "-o", tmp_path, "--height", "180")
    assert result.returncode == 2 and "--height" in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())
    # The CLI checks the range before any work, the fit's own range (humanvid.constants.HEIGHT_RANGE).
    from humanvid.cli.reconstruct import reconstruct
    from humanvid.constants import HEIGHT_RANGE

    option = next(param for param in reconstruct.params if param.name == "height")
    assert (option.type.min, option.type.max) == HEIGHT_RANGE


def test_smpl_without_files_is_a_usage_error(tmp_path):
    result = run_cli("reconstruct", real_media("soccer_5frames.mp4"), "-o", tmp_path, "--body-model", "smpl")
    assert result.returncode == 2 and "--model-path" in result.stderr
    missing = run_cli("reconstruct", real_media("soccer_5frames.mp4"), "-o", tmp_path, "--body-model", "smplx",
                      "--model-path", tmp_path / "nothing_here")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert not list(tmp_path.iterdir())


def test_the_fit_follows_the_heavy_models_2d_and_falls_back_without_it(tennis_run, monkeypatch):
    import dataclasses

    from humanvid.exchange.run_folder import RunFolder
    from humanvid.stages.fit import load_observations, look_at_crops
    from humanvid.landmarks import MEDIAPIPE_INDEX
    from preprocessing import pose_models

    out_dir, _ = tennis_run
    observations = load_observations(RunFolder(out_dir))
    observations = dataclasses.replace(observations, **{field.name: getattr(observations, field.name)[100:108]
                                                        for field in dataclasses.fields(observations)
                                                        if field.name != "intrinsics"})
    heavy = look_at_crops(RunFolder(out_dir), observations)
    assert heavy.pose_model == "heavy" and heavy.world.shape == (8, 33, 3) and np.isfinite(heavy.world).all()
    body = slice(MEDIAPIPE_INDEX["left_shoulder"], MEDIAPIPE_INDEX["left_heel"])  # shoulders to ankles
    moved = np.linalg.norm(heavy.pixels - observations.pixels, axis=-1)[:, body]  # full-frame px
    assert 0.3 < np.median(moved) < 15

    # As on a machine where setup could not install it (patched: it is installed here).
    monkeypatch.setattr(pose_models, "heavy_model_installed", lambda folder=None: False)
    full = look_at_crops(RunFolder(out_dir), observations)
    assert full.pose_model == "full" and np.array_equal(full.pixels, observations.pixels)
    assert np.isfinite(full.world).all() and np.median(np.linalg.norm(full.world - heavy.world, axis=-1)) < 0.08


def test_bodies_fitted_without_the_heavy_pose_model_are_not_kept_once_it_is_installed(tmp_path, monkeypatch):
    from humanvid.inputs import Job
    from humanvid.pipeline import run_job
    from humanvid.settings import Settings
    from preprocessing import pose_models
    from preprocessing.video import FrameSelection

    job = Job(REPO / "examples" / "clip.mp4", "clip")
    settings = Settings(selection=FrameSelection(max_frames=4), until="fit")
    with monkeypatch.context() as patched:  # as on a machine where setup could not install it
        patched.setattr(pose_models, "heavy_model_installed", lambda folder=None: False)
        assert run_job(job, tmp_path, settings).succeeded
    run = json.loads((tmp_path / "clip" / "run.json").read_text())
    assert run["stages"]["fit"]["pose_model"] == "full"
    again = run_job(job, tmp_path, settings)  # the heavy model is installed now (the README's setup)
    assert not again.succeeded and "full" in again.error and "heavy" in again.error and "--overwrite" in again.error
    assert run_job(job, tmp_path, Settings(selection=FrameSelection(max_frames=4), until="fit", overwrite=True)).succeeded
    run = json.loads((tmp_path / "clip" / "run.json").read_text())
    assert run["stages"]["fit"]["pose_model"] == "heavy" and run["stages"]["fit"]["status"] == "complete"

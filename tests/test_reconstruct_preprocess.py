"""`humanvid reconstruct --until preprocess` on real footage, through the real CLI and MediaPipe."""

from __future__ import annotations

import json

import cv2
import numpy as np

from helpers import real_media, run_cli
from preprocessing.crop import CROP_SIZE, to_crop


def load(out_dir, name):
    return json.loads((out_dir / name).read_text())


def mask_box(mask):
    rows, cols = np.flatnonzero((mask > 127).any(axis=1)), np.flatnonzero((mask > 127).any(axis=0))
    return cols[0], rows[0], cols[-1], rows[-1]


def test_tennis_frames_found_and_outputs_complete(tennis_run):
    out_dir, result = tennis_run
    run = load(out_dir, "run.json")
    assert run["summary"]["frames_total"] == 312
    assert run["summary"]["frames_ok"] >= 296
    ok = [f["frame"] for f in run["frames"] if f["status"] == "ok"]
    for frame in ok:
        assert (out_dir / "crops" / f"{frame:06d}.png").exists()
        assert (out_dir / "masks" / f"{frame:06d}.png").exists()
    assert run["stages"]["preprocess"]["status"] == "complete"
    assert run["input"]["fps"] > 29 and run["input"]["width"] == 812 and run["input"]["height"] == 720
    assert not (out_dir / ".work").exists()
    assert "Stopped after preprocessing" in result.stdout
    assert "312 / 312" in result.stdout or f"{len(ok)} / 312" in result.stdout


def test_tennis_crops_are_centred_whole_body_and_steady(tennis_run):
    out_dir, _ = tennis_run
    run = load(out_dir, "run.json")
    assert run["quality"]["crop_center_jitter_px"] <= 2.0
    keypoints = load(out_dir, "keypoints.json")
    frames = [f for f in keypoints["frames"] if f["status"] == "ok"]
    heights = []
    for entry in frames[::10]:
        mask = cv2.imread(str(out_dir / "masks" / f"{entry['frame']:06d}.png"), cv2.IMREAD_GRAYSCALE)
        crop = cv2.imread(str(out_dir / "crops" / f"{entry['frame']:06d}.png"))
        assert mask.shape == (CROP_SIZE, CROP_SIZE) and crop.shape == (CROP_SIZE, CROP_SIZE, 3)
        x0, y0, x1, y1 = mask_box(mask)
        assert x0 > 2 and y0 > 2 and x1 < CROP_SIZE - 3 and y1 < CROP_SIZE - 3, "body cut off"
        # centred: the landmarks' middle lies near the crop centre
        landmarks = np.array(entry["landmarks_crop"])
        assert np.all(np.abs(landmarks[[11, 12, 23, 24]].mean(axis=0) - CROP_SIZE / 2) < 0.2 * CROP_SIZE)
        heights.append((y1 - y0) / CROP_SIZE)
    assert 0.6 < np.median(heights) < 0.9


def test_keypoints_and_camera_follow_the_contract(tennis_run):
    out_dir, _ = tennis_run
    camera = load(out_dir, "camera.json")
    assert (camera["width"], camera["height"]) == (812, 720)
    assert camera["fy"] == camera["fx"]
    assert np.degrees(2 * np.arctan(0.5 * 720 / camera["fy"])) == np.float64(55.0).round(6) or \
        abs(np.degrees(2 * np.arctan(0.5 * 720 / camera["fy"])) - 55.0) < 1e-6
    keypoints = load(out_dir, "keypoints.json")
    entry = next(f for f in keypoints["frames"] if f["status"] == "ok")
    landmarks = np.array(entry["landmarks"])
    assert landmarks.shape == (33, 4) and np.array(entry["world_landmarks"]).shape == (33, 3)
    assert np.array(entry["landmarks_smoothed"]).shape == (33, 2)
    assert np.all((landmarks[:, 3] >= 0) & (landmarks[:, 3] <= 1))
    affine = np.array(entry["crop_affine"])
    mapped = to_crop(np.array(entry["landmarks_smoothed"]), affine)
    assert np.allclose(mapped, np.array(entry["landmarks_crop"]), atol=1e-2)
    # the stored affine reproduces the crop: the frame warped with it equals the PNG
    capture = cv2.VideoCapture(str(real_media("tennis.mp4")))
    for _ in range(entry["frame"] + 1):
        ok, frame = capture.read()
    capture.release()
    warped = cv2.warpAffine(frame, affine, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR)
    crop = cv2.imread(str(out_dir / "crops" / f"{entry['frame']:06d}.png"))
    assert np.abs(warped.astype(float) - crop).mean() < 2.0


def test_rerun_resumes_without_redoing_work(tennis_run):
    out_dir, _ = tennis_run
    before = {p: p.stat().st_mtime_ns for p in (out_dir / "crops").iterdir()}
    result = run_cli("reconstruct", "--until", "preprocess", real_media("tennis.mp4"), "-o", out_dir.parent)
    assert result.returncode == 0, result.stderr
    assert "already done" in result.stdout
    assert {p: p.stat().st_mtime_ns for p in (out_dir / "crops").iterdir()} == before


def test_other_settings_need_overwrite(tennis_run, tmp_path):
    out_dir, _ = tennis_run
    result = run_cli("reconstruct", "--until", "preprocess", real_media("tennis.mp4"), "-o", out_dir.parent, "--every", "2", "-q")
    assert result.returncode == 1
    assert "--overwrite" in result.stderr and "Traceback" not in result.stderr
    assert len(list((out_dir / "crops").iterdir())) >= 296  # nothing was lost


def follow_track(out_dir):
    keypoints = load(out_dir, "keypoints.json")
    centers, torso = [], []
    for entry in keypoints["frames"]:
        assert entry["status"] == "ok"
        landmarks = np.array(entry["landmarks"])[:, :2]
        shoulders, hips = landmarks[[11, 12]].mean(axis=0), landmarks[[23, 24]].mean(axis=0)
        centers.append((shoulders + hips) / 2)
        torso.append(np.linalg.norm(shoulders - hips))
    return np.array(centers), np.array(torso)


def test_one_person_followed_in_crowded_clips(tmp_path):
    result = run_cli("reconstruct", "--until", "preprocess", real_media("soccer_5frames.mp4"), real_media("street_5frames.mp4"),
                     "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("soccer_5frames", "street_5frames"):
        centers, torso = follow_track(tmp_path / name)
        assert len(centers) == 5
        steps = np.linalg.norm(np.diff(centers, axis=0), axis=1)
        assert np.all(steps < 0.8 * np.median(torso)), f"{name}: the track jumped {steps}"
        assert np.all(torso / np.median(torso) > 0.7) and np.all(torso / np.median(torso) < 1.4)


def test_large_photo_gives_a_correct_crop(tmp_path):
    result = run_cli("reconstruct", "--until", "preprocess", real_media("lunge_6016x4016.jpg"), "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    out_dir = tmp_path / "lunge_6016x4016"
    run = load(out_dir, "run.json")
    assert run["summary"]["frames_ok"] == 1
    assert sorted([run["input"]["width"], run["input"]["height"]]) == [4016, 6016]
    mask = cv2.imread(str(out_dir / "masks" / "000000.png"), cv2.IMREAD_GRAYSCALE)
    x0, y0, x1, y1 = mask_box(mask)
    assert x0 > 2 and y0 > 2 and x1 < CROP_SIZE - 3 and y1 < CROP_SIZE - 3
    assert max(x1 - x0, y1 - y0) > 0.6 * CROP_SIZE
    entry = load(out_dir, "keypoints.json")["frames"][0]
    assert np.array(entry["landmarks"])[:, 0].max() > 1000  # full-resolution pixel coordinates

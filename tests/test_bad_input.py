"""Bad input: one clear line on stderr, a non-zero exit, no traceback, nothing half-written."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from helpers import real_media, run_cli


def tennis_frames(count):
    capture = cv2.VideoCapture(str(real_media("tennis.mp4")))
    frames = [capture.read()[1] for _ in range(count)]
    capture.release()
    return frames


def write_avi(path, frames):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()


def make_text_mp4(folder):
    path = folder / "notes.mp4"
    path.write_text("this is a text file, not a video\n" * 20)
    return path


def make_empty_mp4(folder):
    path = folder / "empty.mp4"
    path.write_bytes(b"")
    return path


def make_corrupt_jpg(folder):
    path = folder / "photo.jpg"
    path.write_bytes(real_media("lunge_6016x4016.jpg").read_bytes()[:3000])
    return path


def make_undecodable_video(folder):
    """A valid AVI container whose frames hold no decodable image data."""
    path = folder / "blank_frames.avi"
    write_avi(path, tennis_frames(5))
    data = bytearray(path.read_bytes())
    at = data.find(b"\xff\xd8\xff")
    while at >= 0:
        data[at:at + 4000] = bytes(4000)
        at = data.find(b"\xff\xd8\xff", at + 4000)
    path.write_bytes(bytes(data))
    return path


def make_empty_scene(folder):
    path = folder / "empty_scene.avi"
    write_avi(path, [np.full((240, 320, 3), 40 * i, np.uint8) for i in range(6)])
    return path


BAD_INPUTS = {
    "text file named .mp4": (make_text_mp4, "not a readable video"),
    "empty file": (make_empty_mp4, "empty"),
    "corrupt image": (make_corrupt_jpg, "not a readable image"),
    "no decodable frame": (make_undecodable_video, "no decodable frames"),
    "no person anywhere": (make_empty_scene, "no person found in any of 6 frame"),
}


def assert_one_clean_error(result, fragment):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:") and fragment in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_fails_cleanly(tmp_path, case):
    make, fragment = BAD_INPUTS[case]
    source = make(tmp_path)
    out = tmp_path / "out"
    result = run_cli("reconstruct", "--until", "preprocess", source, "-o", out, "-q")
    assert result.returncode == 1
    assert_one_clean_error(result, fragment)
    assert not (out / source.stem).exists(), "a failed input left a half-made output folder"


def test_missing_path_is_a_usage_error(tmp_path):
    result = run_cli("reconstruct", "--until", "preprocess", tmp_path / "nowhere.mp4", "-o", tmp_path / "out")
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--export", "preview"], "needs a fitted body"),
    (["--start", "5", "--end", "3"], "must be greater"),
    (["--device", "tpu"], "use cpu or cuda"),
    # There is no GPU on this machine or in CI: asking for one must say so, not crash later.
    (["--device", "cuda"], "no CUDA GPU"),
])
def test_bad_options_are_usage_errors(tmp_path, args, fragment):
    result = run_cli("reconstruct", "--until", "preprocess", real_media("soccer_5frames.mp4"), "-o", tmp_path / "out", *args)
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_start_past_the_end(tmp_path):
    result = run_cli("reconstruct", "--until", "preprocess", real_media("soccer_5frames.mp4"), "-o", tmp_path / "out", "--start", "50", "-q")
    assert result.returncode == 1
    assert_one_clean_error(result, "past the last frame")
    assert not (tmp_path / "out" / "soccer_5frames").exists()


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = run_cli("reconstruct", "--until", "preprocess", real_media("soccer_5frames.mp4"), "-o", blocker / "out", "-q")
    assert result.returncode == 1
    assert_one_clean_error(result, "cannot write to output folder")


def test_truncated_video_keeps_the_frames_that_decode(tmp_path):
    whole = tmp_path / "whole.avi"
    write_avi(whole, tennis_frames(30))
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = run_cli("reconstruct", "--until", "preprocess", cut, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "truncated" in result.stdout and "of 30 frames" in result.stdout
    crops = list((tmp_path / "out" / "cut" / "crops").glob("*.png"))
    assert 5 <= len(crops) < 30


def test_batch_goes_on_after_a_failing_input(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    make_text_mp4(folder)
    shutil.copy(real_media("soccer_5frames.mp4"), folder / "soccer.mp4")
    out = tmp_path / "out"
    result = run_cli("reconstruct", "--until", "preprocess", folder, "-o", out)
    assert result.returncode == 1
    assert_one_clean_error(result, "notes.mp4: not a readable video")
    assert len(list((out / "soccer" / "crops").glob("*.png"))) == 5
    assert not (out / "notes").exists()
    assert "soccer.mp4" in result.stdout and "5 / 5" in result.stdout and "notes.mp4" in result.stdout
